import { Injectable } from '@nestjs/common';
import { CallControlClient } from '../control/call-control.client';
import type { CallSurface } from './call-surface';
import { LiveSurface } from './live.surface';
import { RealtimeSurface } from './realtime.surface';
import type { SurfaceName } from './surface-name';

/** Both call-control surfaces over one transport, looked up by name. */
@Injectable()
export class CallSurfaces {
  private readonly byName: Record<SurfaceName, CallSurface>;

  constructor(readonly control: CallControlClient) {
    this.byName = { realtime: new RealtimeSurface(control), live: new LiveSurface(control) };
  }

  get(name: SurfaceName): CallSurface {
    return this.byName[name];
  }

  /** No API key: decisions are made and recorded, never sent. */
  get dryRun(): boolean {
    return this.control.dryRun;
  }
}
