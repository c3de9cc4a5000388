import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { checkTargetUri } from '../sip/uri-check';

/**
 * A transfer target an operator sends as it is: a valid `sip:`, `sips:` or `tel:` URI by the
 * grammar (RFC 3261, RFC 3966). The message names what is wrong with it.
 */
export function IsTargetUri(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isTargetUri',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !checkTargetUri(value),
        defaultMessage: (args: ValidationArguments) =>
          typeof args.value === 'string'
            ? `${args.property} must be a sip:, sips: or tel: URI: "${args.value.slice(0, 200)}" ${checkTargetUri(args.value)}`
            : `${args.property} must be a sip:, sips: or tel: URI`,
      },
    });
  };
}
