export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'neutral'; children: string }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function OnlineBadge({ online }: { online: boolean }) {
  return <Badge tone={online ? 'ok' : 'neutral'}>{online ? 'Online' : 'Offline'}</Badge>;
}
