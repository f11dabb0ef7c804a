import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { request } from 'undici';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../dhan/dhan-endpoints';

export interface ScripMasterDownload {
  /** Where it came from, safe to log and store (no query string). */
  source: string;
  body: Readable;
}

/** Where the scrip master comes from: DhanHQ over HTTP, or a test's stand-in. */
export abstract class ScripMasterSource {
  abstract open(signal?: AbortSignal): Promise<ScripMasterDownload>;
}

/** A download failed before any instrument was read (status, network, timeout). */
export class ScripMasterDownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScripMasterDownloadError';
  }
}

const HEADERS_TIMEOUT_MS = 30_000;
const BODY_TIMEOUT_MS = 60_000;

export function describeSource(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'unparseable URL';
  }
}

/** Streams the CSV from the configured `instrumentsUrl`. */
@Injectable()
export class HttpScripMasterSource extends ScripMasterSource {
  constructor(@Inject(DHAN_ENDPOINTS) private readonly endpoints: DhanEndpoints) {
    super();
  }

  async open(signal?: AbortSignal): Promise<ScripMasterDownload> {
    const url = this.endpoints.instrumentsUrl;
    const source = describeSource(url);
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method: 'GET',
        signal,
        headersTimeout: HEADERS_TIMEOUT_MS,
        bodyTimeout: BODY_TIMEOUT_MS,
        // Once a day: a fresh connection, never a pooled one the server may have dropped.
        reset: true,
      });
    } catch (error) {
      throw new ScripMasterDownloadError(`download failed: ${(error as Error).message}`);
    }
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined);
      throw new ScripMasterDownloadError(`download failed: HTTP ${response.statusCode}`);
    }
    return { source, body: response.body };
  }
}
