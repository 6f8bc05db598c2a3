/**
 * Route contracts: what one HTTP route takes and answers, as data. A lib lists the
 * contracts of its routes beside them, built from the zod schemas its handlers parse
 * with, and each component's OpenAPI document (openapi-document.ts) is rendered from
 * those lists, so the document says what the handlers check.
 */
import type { z } from 'zod';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `<METHOD> <path>`, naming a route of the same document (`'PATCH /v1/uploads/:id'`). */
export type RouteKey = `${HttpMethod} /${string}`;

/**
 * A request body: JSON of a zod schema, or `bytes`, a raw stream whatever its
 * Content-Type (documented as application/octet-stream).
 */
export type RequestBodyContract = z.ZodType | 'bytes';

/**
 * A response body: JSON of a zod schema, `bytes` (application/octet-stream), or
 * `error`, the /v1/ error body of error-body.ts.
 */
export type ResponseBodyContract = z.ZodType | 'bytes' | 'error';

/** A follow-up request an answer makes possible, with parameters taken from the answer. */
export interface ResponseLink {
  readonly route: RouteKey;
  /** Parameter name to an OpenAPI runtime expression, e.g. `$response.body#/uploadId`. */
  readonly params: Readonly<Record<string, string>>;
}

export interface ResponseContract {
  readonly description: string;
  readonly body?: ResponseBodyContract;
  /** Headers of the answer worth knowing, by name, with what they say. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly links?: Readonly<Record<string, ResponseLink>>;
}

export interface RouteContract {
  readonly method: HttpMethod;
  /** The path as the route registers it, parameters as `:name`. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  /** Every path parameter; the schema the handler parses `request.params` with. */
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** Request headers the handler reads (names in lower case). */
  readonly headers?: z.ZodObject;
  readonly body?: RequestBodyContract;
  /** The body may be left out (default: required when there is one). */
  readonly bodyOptional?: boolean;
  /** Answers by status. Errors the /v1/ error handler gives any route (400 for a bad parameter) count too. */
  readonly responses: Readonly<Record<number, ResponseContract>>;
}

/** The API of one component: its routes, with a title and what the API is for. */
export interface ApiReference {
  readonly title: string;
  readonly description: string;
  readonly routes: readonly RouteContract[];
}
