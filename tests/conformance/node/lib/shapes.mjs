// Required fields of the response models of cloudflare@7.3.0 (its .d.ts: fields without `?`),
// for `shape()`. Written down by hand from the SDK's declarations; optional fields are checked
// by value in the tests instead.

import { PAGING } from './rtk.mjs';

const QUALITY = new Set(['hd', 'vga', 'qvga', 'fhd', 'uhd']);
const PRODUCE = new Set(['ALLOWED', 'NOT_ALLOWED', 'CAN_REQUEST']);
const canProduce = { can_produce: PRODUCE };

export const PRESET = {
  id: 'id',
  name: 'string',
  created_at: 'datetime',
  updated_at: 'datetime',
  config: {
    max_screenshare_count: 'number',
    max_video_streams: { desktop: 'number', mobile: 'number' },
    media: {
      screenshare: { frame_rate: 'number', quality: QUALITY },
      video: { frame_rate: 'number', quality: QUALITY },
    },
    view_type: new Set(['GROUP_CALL', 'WEBINAR', 'AUDIO_ROOM', 'LIVESTREAM']),
  },
  permissions: {
    accept_waiting_requests: 'boolean',
    can_accept_production_requests: 'boolean',
    can_change_participant_permissions: 'boolean',
    can_edit_display_name: 'boolean',
    can_livestream: 'boolean',
    can_record: 'boolean',
    can_spotlight: 'boolean',
    chat: {
      private: { can_receive: 'boolean', can_send: 'boolean', files: 'boolean', text: 'boolean' },
      public: { can_send: 'boolean', files: 'boolean', text: 'boolean' },
    },
    connected_meetings: {
      can_alter_connected_meetings: 'boolean',
      can_switch_connected_meetings: 'boolean',
      can_switch_to_parent_meeting: 'boolean',
    },
    disable_participant_audio: 'boolean',
    disable_participant_screensharing: 'boolean',
    disable_participant_video: 'boolean',
    hidden_participant: 'boolean',
    kick_participant: 'boolean',
    media: { audio: canProduce, screenshare: canProduce, video: canProduce },
    pin_participant: 'boolean',
    plugins: { can_close: 'boolean', can_edit_config: 'boolean', can_start: 'boolean', config: 'object' },
    polls: { can_create: 'boolean', can_view: 'boolean', can_vote: 'boolean' },
    recorder_type: new Set(['RECORDER', 'LIVESTREAMER', 'NONE']),
    show_participant_list: 'boolean',
    waiting_room_type: new Set(['SKIP', 'ON_PRIVILEGED_USER_ENTRY', 'SKIP_ON_ACCEPT']),
  },
  ui: {
    design_tokens: {
      border_radius: new Set(['sharp', 'rounded', 'extra-rounded', 'circular']),
      border_width: new Set(['none', 'thin', 'fat']),
      colors: {
        background: { 1000: 'string', 600: 'string', 700: 'string', 800: 'string', 900: 'string' },
        brand: { 300: 'string', 400: 'string', 500: 'string', 600: 'string', 700: 'string' },
        danger: 'string',
        success: 'string',
        text: 'string',
        text_on_brand: 'string',
        video_bg: 'string',
        warning: 'string',
      },
      spacing_base: 'number',
      theme: new Set(['darkest', 'dark', 'light']),
    },
  },
};

/** `{data!: PresetFull, success!}`: create, update, replace, delete, get by id. */
export const PRESET_ENVELOPE = { success: 'boolean', data: PRESET };
/** `{data!: [summary], paging!, success!}` (summary fields are optional). */
export const PRESET_LIST = { success: 'boolean', data: 'array', paging: PAGING };

export const MEETING = { id: 'id', created_at: 'datetime', updated_at: 'datetime' };
/** `{success!, data?: Meeting}`; rtk always sends data. */
export const MEETING_ENVELOPE = { success: 'boolean', data: MEETING };
export const MEETING_LIST = { success: 'boolean', data: 'array', paging: PAGING };

export const PARTICIPANT = {
  id: 'id',
  created_at: 'datetime',
  updated_at: 'datetime',
  custom_participant_id: 'string',
  preset_name: 'string',
};
/** Add and edit: the participant with its token. */
export const PARTICIPANT_WITH_TOKEN = { success: 'boolean', data: { ...PARTICIPANT, token: 'string' } };
export const PARTICIPANT_ENVELOPE = { success: 'boolean', data: PARTICIPANT };
export const PARTICIPANT_LIST = { success: 'boolean', data: 'array', paging: PAGING };
export const PARTICIPANT_DELETED = {
  success: 'boolean',
  data: { created_at: 'datetime', updated_at: 'datetime', custom_participant_id: 'string', preset_id: 'id' },
};
export const TOKEN = { success: 'boolean', data: { token: 'string' } };

// Sessions and the active session. Every envelope field is optional in the SDK (`data?`,
// `success?`); rtk always sends both, so the suites require them. Session times are typed
// `string` in the SDK; rtk sends RFC 3339, which the tests check where they read them.

export const SESSION = {
  id: 'id',
  associated_id: 'id',
  created_at: 'string',
  live_participants: 'number',
  max_concurrent_participants: 'number',
  meeting_display_name: 'string',
  minutes_consumed: 'number',
  organization_id: 'string',
  started_at: 'string',
  status: new Set(['LIVE', 'ENDED']),
  type: new Set(['meeting', 'livestream', 'participant']),
  updated_at: 'string',
};
/** getSessionDetails and getActiveSession: the session flat under `data`. */
export const SESSION_ENVELOPE = { success: 'boolean', data: SESSION };
/** getSessions: `data.sessions` (and a top-level `paging`, optional in the SDK). */
export const SESSION_LIST = { success: 'boolean', data: { sessions: 'array' } };
/** getSessionParticipants: `data.participants`; every participant field is optional. */
export const SESSION_PARTICIPANTS = { success: 'boolean', data: { participants: 'array' } };
/** getSessionParticipantDetails and getParticipantDataFromPeerID: `data.participant`. */
export const SESSION_PARTICIPANT = { success: 'boolean', data: { participant: 'object' } };
export const CHAT = { success: 'boolean', data: { chat_download_url: 'string', chat_download_url_expiry: 'string' } };
export const KICKED = { id: 'id', created_at: 'string', updated_at: 'string' };
export const POLL = { id: 'id', question: 'string', options: 'array' };
export const POLL_OPTION = { text: 'string', count: 'number', votes: 'array' };

/** Webhook events, as the SDK's literal type lists them. */
export const WEBHOOK_EVENTS = [
  'meeting.started',
  'meeting.ended',
  'meeting.participantJoined',
  'meeting.participantLeft',
  'meeting.chatSynced',
  'recording.statusUpdate',
  'livestreaming.statusUpdate',
  'meeting.transcript',
  'meeting.summary',
];
/** Every webhook response's `data` (all seven fields required, none nullable). */
export const WEBHOOK = {
  id: 'id',
  name: 'string',
  url: 'string',
  events: 'array',
  enabled: 'boolean',
  created_at: 'datetime',
  updated_at: 'datetime',
};
/** createWebhook, getWebhookByID, replaceWebhook, editWebhook, deleteWebhook. */
export const WEBHOOK_ENVELOPE = { success: 'boolean', data: WEBHOOK };
/** getWebhooks: `data` is the array (no paging). */
export const WEBHOOK_LIST = { success: 'boolean', data: 'array' };

// Recordings. The d.ts declares `audio_download_url`, `download_url`, `download_url_expiry`,
// `file_size`, `session_id`, `started_time`, `stopped_time` as `T | null` without `?`: present,
// possibly null (checked by `nullablePresent` in the test); the rest below are non-null.
export const RECORDING_STATUSES = new Set(['INVOKED', 'RECORDING', 'UPLOADING', 'UPLOADED', 'ERRORED', 'PAUSED']);
export const RECORDING = { id: 'id', invoked_time: 'datetime', output_file_name: 'string', status: RECORDING_STATUSES };
export const RECORDING_NULLABLE = [
  'audio_download_url',
  'download_url',
  'download_url_expiry',
  'file_size',
  'session_id',
  'started_time',
  'stopped_time',
];
export const RECORDING_ENVELOPE = { success: 'boolean', data: RECORDING };
export const RECORDING_LIST = { success: 'boolean', data: 'array', paging: PAGING };
