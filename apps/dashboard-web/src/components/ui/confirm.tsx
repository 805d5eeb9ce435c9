// A button that asks before doing something that cannot be undone (reboot, release, delete).
// Native <dialog>: focus moves into it, Escape closes it, focus returns to the button.
import { useRef, type ReactNode } from 'react';
import { Button } from './button.tsx';

export function ConfirmButton(props: { label: string; title: string; children: ReactNode; confirmLabel: string; onConfirm: () => void; busy?: boolean; variant?: 'danger' | 'secondary' | 'primary'; disabled?: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <Button variant={props.variant ?? 'danger'} busy={props.busy} disabled={props.disabled} onClick={() => dialog.current?.showModal()}>
        {props.label}
      </Button>
      <dialog ref={dialog} className="dialog" aria-label={props.title}>
        {/* No <form method="dialog">: the button may itself sit inside a form. */}
        <div>
          <h2>{props.title}</h2>
          <div>{props.children}</div>
          <div className="actions">
            <Button autoFocus onClick={() => dialog.current?.close()}>
              Cancel
            </Button>
            <Button
              variant="danger"
              onClick={() => {
                dialog.current?.close();
                props.onConfirm();
              }}
            >
              {props.confirmLabel}
            </Button>
          </div>
        </div>
      </dialog>
    </>
  );
}
