import { Module } from '@nestjs/common';
import { AgentSessionModule } from '../agent-session/agent-session.module';
import { BatchModule } from '../batch/batch.module';
import { EvalRunModule } from '../eval-run/eval-run.module';
import { FineTuningModule } from '../fine-tuning/fine-tuning.module';
import { ResponseModule } from '../response/response.module';
import { SafetyModule } from '../safety/safety.module';

/**
 * The events that are not phone calls: batches, eval runs, fine-tuning jobs, background
 * responses, safety notices and Agents API sessions. Each domain module registers its handler
 * with `@OnWebhookEvent`, exactly as an application's own module would.
 */
@Module({
  imports: [
    AgentSessionModule,
    BatchModule,
    EvalRunModule,
    FineTuningModule,
    ResponseModule,
    SafetyModule,
  ],
})
export class GenericModule {}
