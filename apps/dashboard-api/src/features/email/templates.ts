// The emails the accounts feature sends. Links are built from PUBLIC_URL only, never from the
// request's Host header (which a client controls).
import type { EmailMessage } from './outbox.ts';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function withLink(to: string, subject: string, lines: { before: string; link: string; after: string }): EmailMessage {
  return {
    to,
    subject,
    text: `${lines.before}\n\n${lines.link}\n\n${lines.after}\n`,
    html: `<p>${escapeHtml(lines.before)}</p><p><a href="${escapeHtml(lines.link)}">${escapeHtml(lines.link)}</a></p><p>${escapeHtml(lines.after)}</p>`,
  };
}

export const verificationLink = (publicUrl: string, token: string) => `${publicUrl}/verify-email?token=${encodeURIComponent(token)}`;
export const resetLink = (publicUrl: string, token: string) => `${publicUrl}/reset-password?token=${encodeURIComponent(token)}`;

export function verificationEmail(publicUrl: string, to: string, token: string): EmailMessage {
  return withLink(to, 'Verify your email address', {
    before: 'Welcome to the fleet dashboard. Open this link to verify your email address:',
    link: verificationLink(publicUrl, token),
    after: 'The link works once and expires in 24 hours. If you did not sign up, ignore this email.',
  });
}

export function passwordResetEmail(publicUrl: string, to: string, token: string): EmailMessage {
  return withLink(to, 'Reset your password', {
    before: 'Someone (hopefully you) asked to reset the password of your fleet dashboard account. Open this link to choose a new one:',
    link: resetLink(publicUrl, token),
    after: 'The link works once and expires in 30 minutes; a newer request replaces it. If you did not ask, ignore this email: your password stays as it is.',
  });
}

/** Sent instead of a second account when someone signs up with an address that has one. */
export function accountExistsEmail(publicUrl: string, to: string): EmailMessage {
  return withLink(to, 'You already have an account', {
    before: 'Someone tried to sign up to the fleet dashboard with this address, which already has an account. If it was you, log in, or reset your password here:',
    link: `${publicUrl}/reset-password`,
    after: 'If it was not you, you can ignore this email.',
  });
}

export const invitationLink = (publicUrl: string, token: string) => `${publicUrl}/invitations/accept?token=${encodeURIComponent(token)}`;

/** An invitation into an organization; accepted while logged in with this address. */
export function invitationEmail(publicUrl: string, to: string, token: string, organizationName: string, role: string): EmailMessage {
  return withLink(to, `You are invited to ${organizationName}`, {
    before: `You are invited to join the organization "${organizationName}" on the fleet dashboard as ${role}. Log in (or sign up) with this email address, then open this link:`,
    link: invitationLink(publicUrl, token),
    after: 'The link works once and expires in 7 days. If you did not expect it, ignore this email.',
  });
}
