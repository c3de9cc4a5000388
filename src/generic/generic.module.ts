import { Module } from '@nestjs/common';
import { BatchModule } from '../batch/batch.module';
import { EvalRunModule } from '../eval-run/eval-run.module';
import { FineTuningModule } from '../fine-tuning/fine-tuning.module';
import { ResponseModule } from '../response/response.module';

/**
 * The fourteen events that are not phone calls: batches, eval runs, fine-tuning jobs and
 * background responses. Each domain module registers its handler with `@OnWebhookEvent`,
 * exactly as an application's own module would.
 */
@Module({ imports: [BatchModule, EvalRunModule, FineTuningModule, ResponseModule] })
export class GenericModule {}
