import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';

export type JsonSchema = Record<string, unknown>;

/** Direction a schema is read in: requests are validated as zod input, answers are zod output. */
export type SchemaIo = 'input' | 'output';

const COMPONENT_REF = '#/components/schemas/';
const LOCAL_DEF_REF = '#/$defs/';

/**
 * Points zod's `$defs` references at `components.schemas`. Any other reference (a cycle to
 * `#`, say) would be meaningless once the schema is moved into the document, so it fails loudly.
 */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, entry]) => {
      if (key !== '$ref') return [key, rewriteRefs(entry)];
      if (typeof entry !== 'string' || !entry.startsWith(LOCAL_DEF_REF)) {
        throw new Error(`unsupported $ref ${String(entry)}: give the schema an id with .meta({ id })`);
      }
      return [key, `${COMPONENT_REF}${entry.slice(LOCAL_DEF_REF.length)}`];
    }),
  );
}

function asSchema(value: unknown): JsonSchema {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('zod produced a JSON Schema that is not an object');
  }
  return value as JsonSchema;
}

/**
 * Converts the routes' zod schemas to JSON Schema (draft 2020-12, which OpenAPI 3.1 speaks)
 * and gathers every schema named with `.meta({ id })` as one shared component, so the
 * document `$ref`s `Version` instead of repeating it in every operation.
 */
export class SchemaComponents {
  private readonly components = new Map<string, JsonSchema>();

  /** The JSON Schema of `schema` read in direction `io`; named parts become `$ref`s. */
  schemaOf(schema: z.ZodType, io: SchemaIo): JsonSchema {
    const generated = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'throw',
      override: ({ zodSchema, jsonSchema }) => {
        // zod strips unknown keys from a plain z.object, so its output schema says
        // `additionalProperties: false`. The product promises that answers may gain fields,
        // so the contract must not forbid them; strict request bodies keep the `false`.
        if (io === 'output' && zodSchema instanceof z.core.$ZodObject) {
          if (zodSchema._zod.def.catchall === undefined) delete jsonSchema.additionalProperties;
        }
      },
    });
    // `$schema` is dropped: the document as a whole fixes the dialect (OpenAPI 3.1's, 2020-12 based).
    const { $defs, $schema, ...root } = generated;
    for (const [id, definition] of Object.entries($defs ?? {})) {
      this.add(id, asSchema(rewriteRefs(definition)));
    }
    return asSchema(rewriteRefs(root));
  }

  /** All named schemas, sorted by name so the generated file is stable. */
  all(): Record<string, JsonSchema> {
    return Object.fromEntries(
      [...this.components.entries()].sort(([left], [right]) => left.localeCompare(right)),
    );
  }

  private add(id: string, schema: JsonSchema): void {
    const known = this.components.get(id);
    if (known === undefined) {
      this.components.set(id, schema);
      return;
    }
    // One id read both as request (input) and as answer (output) may differ (defaults,
    // transforms); a silent pick would document one side wrongly.
    if (!isDeepStrictEqual(known, schema)) {
      throw new Error(`schema ${id} differs between its uses (request vs answer?); give each its own id`);
    }
  }
}

export const componentRef = (id: string): { $ref: string } => ({ $ref: `${COMPONENT_REF}${id}` });
