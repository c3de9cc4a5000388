import { BadRequestException, PipeTransform } from '@nestjs/common';

/** A body that must be one JSON object; anything else (nothing, a list, a string) is a 400. */
export class JsonObjectPipe implements PipeTransform<unknown, Record<string, unknown>> {
  constructor(private readonly what = 'a JSON object') {}

  transform(value: unknown): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new BadRequestException(`the body must be ${this.what}`);
    return value as Record<string, unknown>;
  }
}
