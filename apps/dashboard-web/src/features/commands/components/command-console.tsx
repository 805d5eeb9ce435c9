// The command console: one small form per command type; REBOOT asks first.
import { useState, type FormEvent } from 'react';
import { Button } from '../../../components/ui/button.tsx';
import { ConfirmButton } from '../../../components/ui/confirm.tsx';
import { ErrorMessage, Notice } from '../../../components/ui/feedback.tsx';
import { Field, SelectField } from '../../../components/ui/field.tsx';
import { ApiError, type NewCommand } from '../../../lib/api.ts';
import { useSendCommand } from '../api.ts';

type ConsoleType = 'PING' | 'GET_STATUS' | 'SEND_FRAME' | 'START_CAPTURE' | 'STOP_CAPTURE' | 'REBOOT';
const submitLabels: Record<Exclude<ConsoleType, 'REBOOT'>, string> = {
  PING: 'Send ping',
  GET_STATUS: 'Ask for status',
  SEND_FRAME: 'Send frame',
  START_CAPTURE: 'Start capture',
  STOP_CAPTURE: 'Stop capture',
};
const typeLabels: Record<ConsoleType, string> = {
  PING: 'Ping',
  GET_STATUS: 'Get status',
  SEND_FRAME: 'Send a CAN frame',
  START_CAPTURE: 'Start capture',
  STOP_CAPTURE: 'Stop capture',
  REBOOT: 'Reboot',
};

/** SEND_FRAME from the form: the id in hex (0x optional), the data as hex bytes (spaces allowed). */
export function frameFromForm(data: FormData): { command?: NewCommand; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const idText = String(data.get('canId') ?? '').trim().replace(/^0x/i, '');
  const extended = data.get('extended') === 'on';
  const fd = data.get('fd') === 'on';
  const canId = /^[0-9a-f]+$/i.test(idText) ? parseInt(idText, 16) : Number.NaN;
  const max = extended ? 0x1fffffff : 0x7ff;
  if (!Number.isInteger(canId) || canId > max) errors['payload.canId'] = `Enter the CAN id in hex, at most ${max.toString(16).toUpperCase()} for ${extended ? 'an extended (29-bit)' : 'a standard (11-bit)'} id.`;
  const hex = String(data.get('data') ?? '').replace(/[\s:]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(hex)) errors['payload.data'] = 'Enter the data as hex bytes, e.g. 01 02 0A FF.';
  if (Object.keys(errors).length) return { errors };
  return { errors, command: { type: 'SEND_FRAME', payload: { canId, extended, fd, brs: fd && data.get('brs') === 'on', data: hex.toUpperCase() } } };
}

export function CommandConsole({ dongleId, active }: { dongleId: string; active: boolean }) {
  const [type, setType] = useState<ConsoleType>('PING');
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const send = useSendCommand(dongleId);
  const serverErrors = send.error instanceof ApiError ? send.error.fieldErrors() : {};
  const fields = { ...serverErrors, ...localErrors };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    let command: NewCommand | undefined;
    if (type === 'SEND_FRAME') {
      const frame = frameFromForm(data);
      setLocalErrors(frame.errors);
      command = frame.command;
    } else if (type === 'PING') {
      const echo = String(data.get('echo') ?? '');
      command = { type, ...(echo ? { payload: { echo } } : {}) };
    } else if (type === 'START_CAPTURE') {
      const duration = String(data.get('durationSeconds') ?? '').trim();
      const maxFrames = String(data.get('maxFrames') ?? '').trim();
      command = { type, payload: { ...(duration ? { durationSeconds: Number(duration) } : {}), ...(maxFrames ? { maxFrames: Number(maxFrames) } : {}) } };
    } else if (type !== 'REBOOT') {
      command = { type };
    }
    if (command) send.mutate(command);
  }

  return (
    <section className="card" aria-labelledby="console-title">
      <h2 id="console-title">Command console</h2>
      {!active && <p className="muted">Commands go to active dongles only.</p>}
      <SelectField
        label="Command"
        value={type}
        onChange={(e) => {
          setType(e.target.value as ConsoleType);
          setLocalErrors({});
          send.reset();
        }}
      >
        {Object.entries(typeLabels).map(([value, label]) => (
          <option key={value} value={value}>{label}</option>
        ))}
      </SelectField>
      <form onSubmit={submit} noValidate aria-label={`${typeLabels[type]} command`}>
        {type === 'PING' && <Field label="Echo text (optional)" name="echo" maxLength={64} error={fields['payload.echo']} />}
        {type === 'SEND_FRAME' && (
          <>
            <div className="grid-2">
              <Field label="CAN id (hex)" name="canId" placeholder="123" className="mono" error={fields['payload.canId']} />
              <Field label="Data (hex bytes)" name="data" placeholder="01 02 03" className="mono" error={fields['payload.data']} hint="Up to 8 bytes, or 64 with FD." />
            </div>
            <Field label="Extended id (29-bit)" name="extended" type="checkbox" />
            <Field label="CAN FD frame" name="fd" type="checkbox" />
            <Field label="Bit rate switch (FD only)" name="brs" type="checkbox" />
          </>
        )}
        {type === 'START_CAPTURE' && (
          <div className="grid-2">
            <Field label="Duration (seconds, optional)" name="durationSeconds" inputMode="numeric" error={fields['payload.durationSeconds']} />
            <Field label="Maximum frames (optional)" name="maxFrames" inputMode="numeric" error={fields['payload.maxFrames']} />
          </div>
        )}
        <ErrorMessage error={send.error} title="Not sent:" />
        {send.isSuccess && <Notice>{`${typeLabels[type]} queued.`}</Notice>}
        {type === 'REBOOT' ? (
          <ConfirmButton label="Reboot…" title="Reboot this dongle?" confirmLabel="Reboot now" busy={send.isPending} disabled={!active} onConfirm={() => send.mutate({ type: 'REBOOT' })}>
            <p>The dongle restarts and drops off the bus for a few seconds; frames in flight are lost.</p>
          </ConfirmButton>
        ) : (
          <Button type="submit" variant="primary" busy={send.isPending} disabled={!active}>
            {submitLabels[type]}
          </Button>
        )}
      </form>
    </section>
  );
}
