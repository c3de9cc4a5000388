import { Controller, Get, Header, Inject, UnauthorizedException, Headers } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiTags } from '@nestjs/swagger';
import { ApiOperationDocs, METRICS_AUTH } from '../docs/api-operation.decorator';
import { bearerToken, SecretToken } from '../common/bearer-token';
import { METRICS_MODULE_OPTIONS } from './metrics.module-definition';
import { MetricsModuleOptions } from './metrics.options';
import { SwitchboardMetrics } from './switchboard-metrics';

/** Prometheus text format at `GET /metrics`, behind a bearer token when one is configured. */
@ApiTags('metrics')
@ApiBearerAuth(METRICS_AUTH)
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
  @ApiHeader({
    name: 'authorization',
    required: false,
    description: '`Bearer $METRICS_TOKEN`, when METRICS_TOKEN is set',
  })
  @ApiOperationDocs({
    summary: 'Prometheus metrics, in the text exposition format',
    description:
      'Behind `Authorization: Bearer $METRICS_TOKEN` when METRICS_TOKEN is set; open otherwise.',
    ok: {
      200: {
        description: 'the metrics',
        content: {
          'text/plain': {
            schema: {
              type: 'string',
              example:
                'switchboard_webhooks_received_total{type="batch.completed",outcome="accepted"} 3',
            },
          },
        },
      },
    },
    errors: { 401: 'METRICS_TOKEN is set and the request does not carry it' },
  })
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    if (this.expected && !this.expected.matches(bearerToken(authorization))) {
      throw new UnauthorizedException('send Authorization: Bearer $METRICS_TOKEN');
    }
    return this.metrics.registry.metrics();
  }
}
