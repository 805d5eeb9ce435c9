// Create a job: the targets (a tag selector, with a live count of what it matches, or dongles
// picked from the list), the operation (a command, a CAN configuration, a firmware image), the
// rollout (rate, in flight, stages) and an abort rule. The server checks everything again; its
// 422 details are listed under the form.
import { useDeferredValue, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage } from '../../../components/ui/feedback.tsx';
import { Field, SelectField } from '../../../components/ui/field.tsx';
import { ApiError, type NewJob } from '../../../lib/api.ts';
import { useTitle } from '../../../lib/use-title.ts';
import { frameFromForm } from '../../commands/components/command-console.tsx';
import { useDongles } from '../../dongles/api.ts';
import { useCreateJob, useFirmwareImages } from '../api.ts';

type Operation = NewJob['operation']['type'];
type CommandType = 'PING' | 'GET_STATUS' | 'REBOOT' | 'START_CAPTURE' | 'STOP_CAPTURE' | 'SEND_FRAME';
const COMMANDS: Array<[CommandType, string]> = [
  ['PING', 'Ping'],
  ['GET_STATUS', 'Get status'],
  ['REBOOT', 'Reboot'],
  ['START_CAPTURE', 'Start capture'],
  ['STOP_CAPTURE', 'Stop capture'],
  ['SEND_FRAME', 'Send a CAN frame'],
];

const num = (data: FormData, name: string) => Number(String(data.get(name) ?? '').trim());

function SelectorPreview({ selector }: { selector: string }) {
  const deferred = useDeferredValue(selector.trim());
  const matches = useDongles(deferred);
  if (!deferred) return <small className="muted">Enter a selector, e.g. env=prod,site=lab-2,!retired</small>;
  if (matches.error) return <small className="field-error">{matches.error instanceof ApiError ? [matches.error.message, ...matches.error.details.map((d) => d.message)].join(' ') : 'The selector could not be checked.'}</small>;
  if (matches.isPending) return <small className="muted">Checking…</small>;
  return (
    <small className="muted" data-testid="selector-matches">
      {matches.data.length} dongle{matches.data.length === 1 ? '' : 's'} match now (the list is fixed when the job starts).
    </small>
  );
}

function operationFrom(data: FormData, kind: Operation, errors: Record<string, string>): NewJob['operation'] | null {
  if (kind === 'FIRMWARE_UPDATE') {
    const imageId = String(data.get('imageId') ?? '');
    if (!imageId) errors.imageId = 'Upload a firmware image first.';
    return imageId ? { type: 'FIRMWARE_UPDATE', imageId } : null;
  }
  if (kind === 'CAN_CONFIG') {
    const fd = data.get('fdEnabled') === 'on';
    return {
      type: 'CAN_CONFIG',
      config: {
        mode: data.get('mode') as 'NORMAL' | 'LISTEN_ONLY' | 'LOOPBACK',
        nominalBitrate: num(data, 'nominalBitrate'),
        nominalSamplePoint: num(data, 'nominalSamplePoint'),
        fdEnabled: fd,
        ...(fd ? { dataBitrate: num(data, 'dataBitrate'), dataSamplePoint: num(data, 'dataSamplePoint') } : {}),
        termination: data.get('termination') === 'on',
      },
    };
  }
  const type = data.get('commandType') as CommandType;
  if (type === 'SEND_FRAME') {
    const frame = frameFromForm(data);
    Object.assign(errors, frame.errors);
    return frame.command ? { type: 'COMMAND', command: frame.command as Extract<NewJob['operation'], { type: 'COMMAND' }>['command'] } : null;
  }
  if (type === 'PING') return { type: 'COMMAND', command: { type, payload: String(data.get('echo') ?? '') ? { echo: String(data.get('echo')) } : {} } };
  if (type === 'START_CAPTURE') return { type: 'COMMAND', command: { type, payload: { durationSeconds: num(data, 'durationSeconds') } } };
  return { type: 'COMMAND', command: { type } };
}

export function NewJobPage() {
  useTitle('New job');
  const navigate = useNavigate();
  const create = useCreateJob();
  const dongles = useDongles();
  const images = useFirmwareImages();
  const [targetKind, setTargetKind] = useState<'selector' | 'ids'>('selector');
  const [selector, setSelector] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [operation, setOperation] = useState<Operation>('COMMAND');
  const [commandType, setCommandType] = useState<CommandType>('PING');
  const [fd, setFd] = useState(false);
  const [useAbort, setUseAbort] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const active = (dongles.data ?? []).filter((d) => d.state === 'CLAIMED_ACTIVE');

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const found: Record<string, string> = {};
    if (targetKind === 'selector' && !selector.trim()) found.selector = 'Enter a tag selector.';
    if (targetKind === 'ids' && picked.size === 0) found.dongleIds = 'Pick at least one dongle.';
    const op = operationFrom(data, operation, found);
    const stagesText = String(data.get('stages') ?? '').trim();
    const stagePercents = stagesText ? stagesText.split(/[\s,]+/).map(Number) : [];
    if (stagePercents.some((p) => !Number.isFinite(p))) found.stages = 'Enter stage percents as numbers, e.g. 10, 50, 100.';
    setErrors(found);
    if (Object.keys(found).length || !op) return;
    const minSuccess = num(data, 'minSuccessPercent');
    const name = String(data.get('name') ?? '').trim();
    const input: NewJob = {
      ...(name ? { name } : {}),
      operation: op,
      targets: targetKind === 'selector' ? { selector: selector.trim() } : { dongleIds: [...picked] },
      rollout: { maxPerMinute: num(data, 'maxPerMinute'), maxInFlight: num(data, 'maxInFlight'), stages: stagePercents.map((percent) => ({ percent, minSuccessPercent: minSuccess })) },
      abortRules: useAbort ? [{ failureType: data.get('failureType') as 'FAILED' | 'TIMED_OUT' | 'ANY', minExecuted: num(data, 'minExecuted'), thresholdPercent: num(data, 'thresholdPercent') }] : [],
      executionTimeoutSeconds: num(data, 'executionTimeoutSeconds'),
      ...(operation === 'FIRMWARE_UPDATE' ? { requireSigned: data.get('requireSigned') === 'on' } : {}),
    };
    create.mutate(input, { onSuccess: (job) => navigate(`/jobs/${job.id}`) });
  }

  const serverDetails = create.error instanceof ApiError ? create.error.details : [];
  return (
    <section>
      <p>
        <Link to="/jobs">← Jobs</Link>
      </p>
      <h1>New job</h1>
      <form onSubmit={submit} aria-label="New job" noValidate>
        <Field label="Name (optional)" name="name" maxLength={100} />
        <fieldset>
          <legend>Targets</legend>
          <SelectField label="Choose dongles by" value={targetKind} onChange={(e) => setTargetKind(e.target.value as 'selector' | 'ids')}>
            <option value="selector">Tag selector</option>
            <option value="ids">Picking them</option>
          </SelectField>
          {targetKind === 'selector' ? (
            <Field label="Tag selector" name="selector" value={selector} onChange={(e) => setSelector(e.target.value)} placeholder="env=prod,!retired" className="mono" error={errors.selector} hint={<SelectorPreview selector={selector} />} />
          ) : (
            <div role="group" aria-label="Dongles">
              {active.length === 0 && <p className="muted">No active dongle in this organization.</p>}
              {active.map((d) => (
                <Field
                  key={d.id}
                  type="checkbox"
                  label={`${d.name ?? 'Unnamed'} (${d.deviceId})`}
                  checked={picked.has(d.id)}
                  onChange={(e) => setPicked((s) => { const next = new Set(s); if (e.target.checked) next.add(d.id); else next.delete(d.id); return next; })}
                />
              ))}
              {errors.dongleIds && <p className="field-error">{errors.dongleIds}</p>}
            </div>
          )}
        </fieldset>
        <fieldset>
          <legend>Operation</legend>
          <SelectField label="Operation" value={operation} onChange={(e) => setOperation(e.target.value as Operation)}>
            <option value="COMMAND">A command</option>
            <option value="CAN_CONFIG">A CAN configuration</option>
            <option value="FIRMWARE_UPDATE">A firmware update</option>
          </SelectField>
          {operation === 'COMMAND' && (
            <>
              <SelectField label="Command" name="commandType" value={commandType} onChange={(e) => setCommandType(e.target.value as CommandType)}>
                {COMMANDS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
              </SelectField>
              {commandType === 'PING' && <Field label="Echo text (optional)" name="echo" maxLength={64} />}
              {commandType === 'START_CAPTURE' && <Field label="Capture duration (s)" name="durationSeconds" type="number" min={1} max={3600} defaultValue={10} />}
              {commandType === 'SEND_FRAME' && (
                <div className="grid-3">
                  <Field label="CAN id (hex)" name="canId" error={errors['payload.canId']} />
                  <Field label="Data (hex bytes)" name="data" error={errors['payload.data']} />
                  <Field label="Extended id (29-bit)" name="extended" type="checkbox" />
                </div>
              )}
            </>
          )}
          {operation === 'CAN_CONFIG' && (
            <div className="grid-3">
              <SelectField label="Mode" name="mode" defaultValue="NORMAL">
                <option value="NORMAL">Normal</option>
                <option value="LISTEN_ONLY">Listen only</option>
                <option value="LOOPBACK">Loopback</option>
              </SelectField>
              <Field label="Nominal bitrate (bit/s)" name="nominalBitrate" type="number" defaultValue={500000} />
              <Field label="Nominal sample point (%)" name="nominalSamplePoint" type="number" step="0.1" defaultValue={87.5} />
              <Field label="CAN FD" name="fdEnabled" type="checkbox" checked={fd} onChange={(e) => setFd(e.target.checked)} />
              {fd && <Field label="Data bitrate (bit/s)" name="dataBitrate" type="number" defaultValue={2000000} />}
              {fd && <Field label="Data sample point (%)" name="dataSamplePoint" type="number" step="0.1" defaultValue={75} />}
              <Field label="Termination" name="termination" type="checkbox" />
            </div>
          )}
          {operation === 'FIRMWARE_UPDATE' && (
            <>
              <SelectField label="Firmware image" name="imageId" error={errors.imageId} hint={<Link to="/firmware">Upload an image</Link>}>
                {(images.data ?? []).map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.version} for {i.chipFamily}/{i.boardRevision}{i.signed ? ' (signed)' : ''}
                  </option>
                ))}
              </SelectField>
              <Field label="Require a signed image" name="requireSigned" type="checkbox" />
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Rollout</legend>
          <div className="grid-3">
            <Field label="At most per minute" name="maxPerMinute" type="number" min={1} defaultValue={60} />
            <Field label="At most in flight" name="maxInFlight" type="number" min={1} defaultValue={50} />
            <Field label="Timeout per dongle (s)" name="executionTimeoutSeconds" type="number" min={5} max={86400} defaultValue={600} />
            <Field label="Stages (cumulative %, optional)" name="stages" placeholder="10, 50, 100" error={errors.stages} hint="Each stage must finish before the next starts." />
            <Field label="Success needed per stage (%)" name="minSuccessPercent" type="number" min={0} max={100} defaultValue={100} hint="Below it the job pauses for a person." />
          </div>
        </fieldset>
        <fieldset>
          <legend>Abort rule</legend>
          <Field label="Abort when too many fail" type="checkbox" checked={useAbort} onChange={(e) => setUseAbort(e.target.checked)} />
          {useAbort && (
            <div className="grid-3">
              <SelectField label="Counting" name="failureType" defaultValue="ANY">
                <option value="ANY">Failed or timed out</option>
                <option value="FAILED">Failed</option>
                <option value="TIMED_OUT">Timed out</option>
              </SelectField>
              <Field label="After at least (finished)" name="minExecuted" type="number" min={1} defaultValue={5} />
              <Field label="Threshold (%)" name="thresholdPercent" type="number" min={1} max={100} defaultValue={20} />
            </div>
          )}
        </fieldset>
        <Button type="submit" variant="primary" busy={create.isPending}>
          Create job
        </Button>
        <ErrorMessage error={create.error} />
        {serverDetails.length > 0 && (
          <ul className="field-error" data-testid="job-errors">
            {serverDetails.map((d, i) => <li key={i}>{d.path ? `${d.path.replace(/^body\./, '')}: ` : ''}{d.message}</li>)}
          </ul>
        )}
      </form>
    </section>
  );
}
