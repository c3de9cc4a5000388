import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type {
  ContentObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { HttpErrorDto } from '../common/dto/http-error.dto';

/** The scheme name of the admin token in the OpenAPI document. */
export const ADMIN_AUTH = 'admin-token';
/** The scheme name of the metrics token (`METRICS_TOKEN`). */
export const METRICS_AUTH = 'metrics-token';

/** An answer of an operation: a DTO class, a list of one, a schema, or content by media type. */
export interface DocumentedAnswer {
  description: string;
  type?: Type | [Type];
  schema?: SchemaObject;
  content?: ContentObject;
}

export interface OperationDocs {
  summary: string;
  description?: string;
  /** The success answer(s) by status. */
  ok: Record<number, DocumentedAnswer>;
  /** Error answers by status; the body is an `HttpErrorDto` unless a type is given. */
  errors?: Record<number, string | DocumentedAnswer>;
  /** Behind the admin token (the controller names the scheme): 401, and the 404 of an API turned off. */
  admin?: boolean;
}

const ADMIN_OFF = 'the admin API is off (no ADMIN_TOKEN is configured)';

/**
 * One operation of the OpenAPI document in one place: its summary, every answer it gives, and
 * for admin routes the token, the 401 and the 404 that means "turned off".
 */
export function ApiOperationDocs(docs: OperationDocs): MethodDecorator {
  const errors: Record<number, string | DocumentedAnswer> = { ...docs.errors };
  if (docs.admin) {
    errors[401] = 'missing or wrong `Authorization: Bearer <ADMIN_TOKEN>`';
    const notFound = errors[404];
    errors[404] = notFound
      ? typeof notFound === 'string'
        ? `${notFound}; or ${ADMIN_OFF}`
        : { ...notFound, description: `${notFound.description}; or ${ADMIN_OFF}` }
      : ADMIN_OFF;
  }
  const answers = [
    ...Object.entries(docs.ok),
    ...Object.entries(errors).map(
      ([status, answer]) =>
        [
          status,
          typeof answer === 'string' ? { description: answer, type: HttpErrorDto } : answer,
        ] as const,
    ),
  ];
  return applyDecorators(
    ApiOperation({ summary: docs.summary, description: docs.description }),
    ApiExtraModels(HttpErrorDto),
    ...answers.map(([status, answer]) =>
      ApiResponse({
        status: Number(status),
        description: answer.description,
        ...(answer.schema ? { schema: answer.schema } : {}),
        ...(answer.type ? { type: answer.type } : {}),
        ...(answer.content ? { content: answer.content } : {}),
      }),
    ),
  );
}
