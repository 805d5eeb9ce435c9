// A labelled input with its error message tied to it (aria-describedby), for screen readers too.
import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';

interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
}

export function Field({ label, error, hint, id, className, ...input }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const generated = useId();
  const inputId = id ?? generated;
  const describedBy = [error && `${inputId}-error`, hint && `${inputId}-hint`].filter(Boolean).join(' ') || undefined;
  const checkbox = input.type === 'checkbox';
  return (
    <div className={`field ${checkbox ? 'field-check' : ''} ${className ?? ''}`}>
      {checkbox && <input id={inputId} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />}
      <label htmlFor={inputId}>{label}</label>
      {!checkbox && <input id={inputId} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />}
      {hint && (
        <small id={`${inputId}-hint`} className="muted">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${inputId}-error`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

export function SelectField({ label, error, hint, id, children, className, ...select }: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const generated = useId();
  const selectId = id ?? generated;
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={selectId}>{label}</label>
      <select id={selectId} aria-invalid={error ? true : undefined} aria-describedby={error ? `${selectId}-error` : undefined} {...select}>
        {children}
      </select>
      {hint && <small className="muted">{hint}</small>}
      {error && (
        <small id={`${selectId}-error`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}
