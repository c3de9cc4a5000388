import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Equals } from 'class-validator';

/**
 * The `type` of one event DTO: validated to be exactly that type, and documented as the
 * discriminator of the webhook body's union in the OpenAPI document.
 */
export function EventType(type: string): PropertyDecorator {
  return applyDecorators(
    Equals(type),
    ApiProperty({ enum: [type], description: 'the event type: the union is keyed by it' }),
  );
}
