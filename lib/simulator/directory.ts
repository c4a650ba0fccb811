/**
 * The simulated org: which staffIds and groups exist, the sessionWebhooks handed out with
 * inbound messages (§4.1, §5), and the media behind minted downloadCodes (§6.3).
 */
import type { Clock } from '../clock.js';
import type { SimApp } from './options.js';

/** A sessionWebhook handed out with one inbound message. */
export interface WebhookSession {
  token: string;
  app: SimApp;
  conversationId: string;
  conversationType: '1' | '2';
  senderStaffId: string;
  expiresAt: number;
}

/** Bytes behind a downloadCode. */
export interface MediaFile {
  code: string;
  app: SimApp;
  bytes: Buffer;
  contentType: string;
}

/** A file the bot uploaded through `media/upload`, behind its media id. */
export interface UploadedMedia {
  mediaId: string;
  app: SimApp;
  type: 'image' | 'voice' | 'video' | 'file';
  fileName: string;
  contentType: string;
  bytes: Buffer;
  at: number;
}

// Sessions expire in 90 minutes; prune expired ones once the map grows past this size.
const SESSION_PRUNE_AT = 5_000;

export class Directory {
  private readonly users = new Set<string>();
  /** group conversationId → clientIds of the bots in it; `*` = every app. */
  private readonly groups = new Map<string, Set<string>>();
  private readonly sessions = new Map<string, WebhookSession>();
  private readonly files = new Map<string, MediaFile>();
  private readonly uploads = new Map<string, UploadedMedia>();

  constructor(
    private readonly clock: Clock,
    users: readonly string[],
    groups: readonly string[],
  ) {
    for (const user of users) this.users.add(user);
    for (const group of groups) this.groups.set(group, new Set(['*']));
  }

  addUser(staffId: string): void {
    this.users.add(staffId);
  }

  hasUser(staffId: string): boolean {
    return this.users.has(staffId);
  }

  /** Records that the app's bot is a member of the group. */
  addGroupMember(conversationId: string, app: SimApp): void {
    const members = this.groups.get(conversationId) ?? new Set<string>();
    members.add(app.clientId);
    this.groups.set(conversationId, members);
  }

  isGroupMember(conversationId: string, app: SimApp): boolean {
    const members = this.groups.get(conversationId);
    return members !== undefined && (members.has('*') || members.has(app.clientId));
  }

  addSession(session: WebhookSession): void {
    if (this.sessions.size >= SESSION_PRUNE_AT) this.pruneSessions();
    this.sessions.set(session.token, session);
  }

  /** The live session for a token, or undefined when unknown or expired. */
  liveSession(token: string): WebhookSession | undefined {
    const session = this.sessions.get(token);
    if (!session || this.clock.now() > session.expiresAt) return undefined;
    return session;
  }

  addFile(file: MediaFile): void {
    this.files.set(file.code, file);
  }

  file(code: string): MediaFile | undefined {
    return this.files.get(code);
  }

  addUpload(media: UploadedMedia): void {
    this.uploads.set(media.mediaId, media);
  }

  /** The upload behind a media id, if this app uploaded it (media ids are per org, §6.2). */
  upload(mediaId: string, app: SimApp): UploadedMedia | undefined {
    const media = this.uploads.get(mediaId);
    return media && media.app.clientId === app.clientId ? media : undefined;
  }

  private pruneSessions(): void {
    const now = this.clock.now();
    for (const [token, session] of this.sessions) {
      if (now > session.expiresAt) this.sessions.delete(token);
    }
  }
}
