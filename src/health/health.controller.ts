import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ReadinessIndicators } from './readiness.indicators';

/** Liveness and readiness, without auth and without any configuration in the answers. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessIndicators,
  ) {}

  /** The process answers: nothing else is checked, so a busy dependency never restarts it. */
  @Get('healthz')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers (no auth)' })
  live() {
    return this.health.check([]);
  }

  /** Ready for traffic: the store takes writes and routing rules are loaded. 503 otherwise. */
  @Get('readyz')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: the store takes writes and routing rules are loaded (no auth)',
    description: '503 names the failing check.',
  })
  ready() {
    return this.health.check([
      () => this.readiness.store_writable(),
      () => this.readiness.rules_loaded(),
    ]);
  }
}
