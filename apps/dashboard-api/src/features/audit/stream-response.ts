// Writes an async sequence of text chunks to an HTTP response with backpressure: after a write
// the socket cannot take, the next chunk is not even read from the database until 'drain'. A
// client that goes away ('close' before the end) stops the sequence, whose `finally` releases
// the database cursor and connection.
import type { Response } from 'express';
import type { Logger } from '../../platform/logger.ts';

export interface Download {
  contentType: string;
  filename: string;
}

/** Resolves on 'drain' or 'close', whichever comes first, and leaves no listener behind. */
function writable(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export async function streamDownload(res: Response, chunks: AsyncGenerator<string, void, undefined>, download: Download, logger: Logger): Promise<void> {
  // `res.destroyed` turns true when the client goes away (its 'close'), including while the
  // export was being prepared, before this function ran.
  let bytes = 0;
  try {
    // The first chunk is read before any header: a query that fails at once is still a clean
    // JSON error from the error middleware.
    let next = await chunks.next();
    if (res.destroyed) return;
    res.status(200);
    res.setHeader('Content-Type', download.contentType);
    res.setHeader('Content-Disposition', `attachment; filename="${download.filename}"`);
    for (; !next.done && !res.destroyed; next = await chunks.next()) {
      bytes += Buffer.byteLength(next.value);
      if (!res.write(next.value) && !res.destroyed) await writable(res);
    }
    if (!res.destroyed) res.end();
    logger.info({ requestId: res.locals.requestId, filename: download.filename, bytes, complete: next.done === true }, 'download ended');
  } catch (error) {
    if (!res.headersSent) throw error;
    // Mid-stream the status is already 200: cut the connection so the client sees a truncated
    // download rather than a clean end that looks complete.
    logger.error({ err: error, requestId: res.locals.requestId }, 'audit export failed mid-stream');
    res.destroy(error as Error);
  } finally {
    // Closes the database cursor and returns its connection, however the loop ended.
    await chunks.return(undefined);
  }
}
