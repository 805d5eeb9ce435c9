// A minimal Server-Sent Events client over node:http for tests: parses frames as they arrive,
// can stop reading (to play a slow client) and can cut the connection at any point.
import http from 'node:http';

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export interface SseClient {
  status: number;
  frames: SseFrame[];
  comments: string[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  isEnded(): boolean;
  waitFor(predicate: (frames: SseFrame[]) => boolean, timeoutMs?: number): Promise<SseFrame[]>;
  pause(): void;
  resume(): void;
  close(): void;
  /** The last `id:` received (what a browser would send as Last-Event-ID). */
  lastEventId(): string | undefined;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      const frames: SseFrame[] = [];
      const comments: string[] = [];
      let buffer = '';
      let ended = false;
      let lastId: string | undefined;
      let endResolve!: () => void;
      const endedPromise = new Promise<void>((r) => (endResolve = r));
      const finish = () => {
        ended = true;
        endResolve();
      };
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const frame: SseFrame = { event: 'message', data: '' };
          let hasField = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) (frame.id = line.slice(4)), (hasField = true);
            else if (line.startsWith('event: ')) (frame.event = line.slice(7)), (hasField = true);
            else if (line.startsWith('data: ')) (frame.data += line.slice(6)), (hasField = true);
          }
          if (hasField && (frame.data || frame.event !== 'message')) {
            frames.push(frame);
            if (frame.id) lastId = frame.id;
          }
        }
      });
      response.on('end', finish);
      response.on('close', finish);
      response.on('error', finish);
      resolve({
        status: response.statusCode ?? 0,
        frames,
        comments,
        ended: endedPromise,
        isEnded: () => ended,
        async waitFor(predicate, timeoutMs = 20_000) {
          const deadline = Date.now() + timeoutMs;
          while (!predicate(frames)) {
            if (Date.now() > deadline) throw new Error(`SSE wait timed out with ${frames.length} frames (ended: ${ended})`);
            await new Promise((r) => setTimeout(r, 15));
          }
          return frames;
        },
        pause: () => response.pause(),
        resume: () => response.resume(),
        close: () => {
          request.destroy();
          finish();
        },
        lastEventId: () => lastId,
      });
    });
    request.on('error', reject);
  });
}

/** The event frames only (no resync), as numbers. */
export const eventIds = (frames: SseFrame[]) => frames.filter((f) => f.event !== 'resync' && f.id).map((f) => Number(f.id));
