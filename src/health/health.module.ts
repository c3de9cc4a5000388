import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HttpDrain } from './http-drain';
import { ReadinessIndicators } from './readiness.indicators';

/**
 * `GET /healthz` and `GET /readyz` through @nestjs/terminus, and the HTTP side of a graceful
 * shutdown (`HttpDrain`): readiness turns 503 as the server stops taking work.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [ReadinessIndicators, HttpDrain],
  exports: [HttpDrain],
})
export class HealthModule {}
