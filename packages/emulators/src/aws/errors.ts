/**
 * KMS error shapes: `{"__type": "<Code>", "message": "..."}` with an HTTP status, which the SDK
 * turns into an exception whose `name` is the code.
 * @module
 */

/** An error the emulator answers with, in KMS's wire shape. */
export class KmsFault extends Error {
  /** The KMS error code, sent as `__type` (e.g. `NotFoundException`). */
  readonly type: string;
  /** HTTP status: 400 for client faults, 5xx for server faults. */
  readonly status: number;

  /** @ignore */
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'KmsFault';
    this.type = type;
    this.status = status;
  }
}

/** Shorthands for the errors the emulator produces, with the messages real KMS uses where known. */
export const kmsErrors = {
  notFound: (what: string) => new KmsFault('NotFoundException', `${what} is not found.`),
  invalidArn: (arn: string) => new KmsFault('NotFoundException', `Invalid arn ${arn}`),
  disabled: (arn: string) => new KmsFault('DisabledException', `${arn} is disabled.`),
  invalidCiphertext: () => new KmsFault('InvalidCiphertextException', ''),
  incorrectKey: () => new KmsFault('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.'),
  invalidKeyUsage: (message: string) => new KmsFault('InvalidKeyUsageException', message),
  validation: (message: string) => new KmsFault('ValidationException', message),
  unsupported: (message: string) => new KmsFault('UnsupportedOperationException', message),
  alreadyExists: (message: string) => new KmsFault('AlreadyExistsException', message),
  accessDenied: (principal: string, action: string, arn: string) =>
    new KmsFault('AccessDeniedException', `User: ${principal} is not authorized to perform: kms:${action} on resource: ${arn} because no resource-based policy allows the kms:${action} action`),
  unknownOperation: () => new KmsFault('UnknownOperationException', ''),
  serialization: (message: string) => new KmsFault('SerializationException', message),
} as const;
