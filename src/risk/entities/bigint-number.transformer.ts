import type { ValueTransformer } from 'typeorm';

/** bigint columns come back as strings from PostgreSQL; paise stay safe integers. */
export const BIGINT_NUMBER: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
