import { z } from '../../domain/zod';

/** The gRPC status codes this code base reacts to (google.rpc.Code). */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  ABORTED: 10,
} as const;

const grpcErrorSchema = z.object({ code: z.number().int() });

/** The numeric gRPC code of a client error, if it carries one. */
export function grpcCodeOf(error: unknown): number | undefined {
  const parsed = grpcErrorSchema.safeParse(error);
  return parsed.success ? parsed.data.code : undefined;
}
