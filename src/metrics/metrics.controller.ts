import { Controller, Get, Header, Inject, UnauthorizedException, Headers } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { bearerToken, SecretToken } from '../common/bearer-token';
import { METRICS_MODULE_OPTIONS } from './metrics.module-definition';
import { MetricsModuleOptions } from './metrics.options';
import { SwitchboardMetrics } from './switchboard-metrics';

/** Prometheus text format at `GET /metrics`, behind a bearer token when one is configured. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  private readonly expected?: SecretToken;

  constructor(
    private readonly metrics: SwitchboardMetrics,
    @Inject(METRICS_MODULE_OPTIONS) options: MetricsModuleOptions,
  ) {
    this.expected = options.token ? new SecretToken(options.token) : undefined;
  }

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    if (this.expected && !this.expected.matches(bearerToken(authorization))) {
      throw new UnauthorizedException('send Authorization: Bearer $METRICS_TOKEN');
    }
    return this.metrics.registry.metrics();
  }
}
