// The CAN configuration form. It previews the bit timing the server will derive (prescaler and
// segments for the dongle's clock) as the operator types, and shows the server's 422 messages
// on the fields they belong to.
import { useState, type FormEvent } from 'react';
import { Badge } from '../../../components/ui/badge.tsx';
import { Button } from '../../../components/ui/button.tsx';
import { ErrorMessage, Loading, Notice } from '../../../components/ui/feedback.tsx';
import { Field, SelectField } from '../../../components/ui/field.tsx';
import { ApiError, type CanConfig, type CanConfigInput, type CanMode } from '../../../lib/api.ts';
import { useCanConfig, useSaveCanConfig } from '../api.ts';
import { DATA_LIMITS, NOMINAL_LIMITS, solveBitTiming, timingFromSegments } from '../bit-timing.ts';

interface FormState {
  mode: CanMode;
  nominalBitrate: string;
  nominalSamplePoint: string;
  nominalSjw: string;
  clockHz: string;
  fdEnabled: boolean;
  dataBitrate: string;
  dataSamplePoint: string;
  dataSjw: string;
  termination: boolean;
  autoRetransmit: boolean;
}

const fromConfig = (c: CanConfig): FormState => ({
  mode: c.mode,
  nominalBitrate: String(c.nominalBitrate),
  nominalSamplePoint: String(c.nominalSamplePoint),
  nominalSjw: String(c.nominalSjw),
  clockHz: String(c.clockHz),
  fdEnabled: c.fdEnabled,
  dataBitrate: c.dataBitrate ? String(c.dataBitrate) : '2000000',
  dataSamplePoint: c.dataSamplePoint ? String(c.dataSamplePoint) : '75',
  dataSjw: c.dataSjw ? String(c.dataSjw) : '1',
  termination: c.termination,
  autoRetransmit: c.autoRetransmit,
});

const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

function toInput(f: FormState): CanConfigInput {
  const input: CanConfigInput = {
    mode: f.mode,
    nominalBitrate: num(f.nominalBitrate),
    nominalSamplePoint: num(f.nominalSamplePoint),
    nominalSjw: num(f.nominalSjw),
    clockHz: num(f.clockHz),
    fdEnabled: f.fdEnabled,
    termination: f.termination,
    autoRetransmit: f.autoRetransmit,
  };
  if (f.fdEnabled) Object.assign(input, { dataBitrate: num(f.dataBitrate), dataSamplePoint: num(f.dataSamplePoint), dataSjw: num(f.dataSjw) });
  return input;
}

function TimingPreview({ phase, clockHz, bitrate, samplePoint, sjw }: { phase: 'nominal' | 'data'; clockHz: number; bitrate: number; samplePoint: number; sjw: number }) {
  const limits = phase === 'nominal' ? NOMINAL_LIMITS : DATA_LIMITS;
  const solved = [clockHz, bitrate, samplePoint].every(Number.isFinite) ? solveBitTiming({ clockHz, bitrate, samplePoint, limits, sjw: Number.isFinite(sjw) ? sjw : 1 }) : null;
  if (!solved) {
    return (
      <p className="timing timing-bad" data-testid={`timing-${phase}`}>
        No {phase} bit timing reaches {Number.isFinite(bitrate) ? bitrate.toLocaleString('en') : '?'} bit/s at {samplePoint} % on this clock.
      </p>
    );
  }
  const actual = timingFromSegments({ clockHz, ...solved });
  return (
    <p className="timing" data-testid={`timing-${phase}`}>
      Computed {phase} timing: prescaler {solved.prescaler}, seg1 {solved.seg1}, seg2 {solved.seg2} ({actual.timeQuanta} time quanta) →{' '}
      {Math.round(actual.bitrate).toLocaleString('en')} bit/s, sample point {actual.samplePoint.toFixed(1)} %
    </p>
  );
}

function Form({ config, disabled, save }: { config: CanConfig; disabled: boolean; save: ReturnType<typeof useSaveCanConfig> }) {
  const [form, setForm] = useState<FormState>(() => fromConfig(config));
  const fields = save.error instanceof ApiError ? save.error.fieldErrors() : {};
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setForm((f) => ({ ...f, [key]: value }));
  const text = (key: keyof FormState) => ({ value: String(form[key]), onChange: (e: { target: { value: string } }) => set(key, e.target.value as never), error: fields[key] });
  const clockHz = num(form.clockHz);

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate({ version: config.version, input: toInput(form) });
  }

  return (
    <form onSubmit={submit} noValidate aria-label="CAN configuration">
      <div className="grid-3">
        <SelectField label="Mode" value={form.mode} onChange={(e) => set('mode', e.target.value as CanMode)} error={fields.mode}>
          <option value="NORMAL">Normal</option>
          <option value="LISTEN_ONLY">Listen only</option>
          <option value="LOOPBACK">Loopback</option>
        </SelectField>
        <Field label="Nominal bitrate (bit/s)" inputMode="numeric" {...text('nominalBitrate')} />
        <Field label="Nominal sample point (%)" inputMode="decimal" {...text('nominalSamplePoint')} />
        <Field label="Nominal SJW" inputMode="numeric" {...text('nominalSjw')} />
        <Field label="Clock (Hz)" inputMode="numeric" {...text('clockHz')} />
      </div>
      <TimingPreview phase="nominal" clockHz={clockHz} bitrate={num(form.nominalBitrate)} samplePoint={num(form.nominalSamplePoint)} sjw={num(form.nominalSjw)} />
      <Field label="CAN FD (flexible data rate)" type="checkbox" checked={form.fdEnabled} onChange={(e) => set('fdEnabled', e.target.checked)} error={fields.fdEnabled} />
      {form.fdEnabled && (
        <>
          <div className="grid-3">
            <Field label="Data bitrate (bit/s)" inputMode="numeric" {...text('dataBitrate')} />
            <Field label="Data sample point (%)" inputMode="decimal" {...text('dataSamplePoint')} />
            <Field label="Data SJW" inputMode="numeric" {...text('dataSjw')} />
          </div>
          <TimingPreview phase="data" clockHz={clockHz} bitrate={num(form.dataBitrate)} samplePoint={num(form.dataSamplePoint)} sjw={num(form.dataSjw)} />
        </>
      )}
      <Field label="120 Ω termination" type="checkbox" checked={form.termination} onChange={(e) => set('termination', e.target.checked)} />
      <Field label="Automatic retransmission" type="checkbox" checked={form.autoRetransmit} onChange={(e) => set('autoRetransmit', e.target.checked)} />
      {save.error instanceof ApiError && save.error.status === 412 ? (
        <ErrorMessage error={new ApiError(412, 'stale', 'Someone changed this configuration since you opened it. Reload the page to see their version, then make your change again.', save.error.requestId)} />
      ) : (
        <ErrorMessage error={save.error} title={Object.keys(fields).length ? 'Fix the fields marked below:' : undefined} />
      )}
      {save.isSuccess && <Notice>Saved as version {save.data.version}; the dongle applies it next (APPLY_CAN_CONFIG queued).</Notice>}
      <Button type="submit" variant="primary" busy={save.isPending} disabled={disabled}>
        Save and apply
      </Button>
    </form>
  );
}

export function CanConfigSection({ dongleId, active }: { dongleId: string; active: boolean }) {
  const config = useCanConfig(dongleId);
  // Held here, not in the form: a save remounts the form on the new version, the notice stays.
  const save = useSaveCanConfig(dongleId);
  return (
    <section className="card" aria-labelledby="can-config-title">
      <h2 id="can-config-title">
        CAN configuration{' '}
        {config.data && (
          <Badge tone={config.data.version === config.data.appliedVersion ? 'ok' : 'warn'}>
            {`v${config.data.version} desired, v${config.data.appliedVersion} applied`}
          </Badge>
        )}
      </h2>
      {!active && <p className="muted">The dongle must be active (claimed and holding its token) to take a configuration.</p>}
      <ErrorMessage error={config.error} />
      {config.isPending ? <Loading /> : config.data && <Form key={config.data.version} config={config.data} disabled={!active} save={save} />}
    </section>
  );
}
