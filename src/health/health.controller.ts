import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorFunction } from '@nestjs/terminus';
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

  /**
   * Ready for traffic: the stores take writes (their last write did not fail, their files are
   * not corrupt), routing rules are loaded, and no shutdown has begun. 503 naming the failing
   * check otherwise.
   */
  @Get('readyz')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: the store takes writes and routing rules are loaded (no auth)',
    description: '503 names the failing check.',
  })
  ready() {
    const checks: HealthIndicatorFunction[] = [
      () => this.readiness.store_writable(),
      () => this.readiness.rules_loaded(),
    ];
    // Listed only once it is down, so a healthy answer keeps its two documented checks.
    if (this.readiness.shuttingDown) checks.push(() => this.readiness.shutting_down());
    return this.health.check(checks);
  }
}
