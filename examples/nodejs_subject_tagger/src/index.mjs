/**
 * Tag the subject of incoming mail: "Delivery window for order 4471" becomes
 * "[Checked] Delivery window for order 4471".
 *
 * Attach this function to a synchronous inbound Run Lambda email flow rule. It reads the
 * message (GetRawMessageContent), puts SUBJECT_TAG in front of its subject, stores the
 * edited copy in UPDATED_EMAIL_S3_BUCKET and hands it to WorkMail (PutRawMessageContent).
 * A subject that already starts with the tag (a retry of the same message) is left as it
 * is. The function answers DEFAULT for every recipient.
 *
 * Environment variables (set in template.yaml):
 *   SUBJECT_TAG               e.g. "[Checked]"
 *   UPDATED_EMAIL_S3_BUCKET   where the edited copy is stored; its bucket policy lets WorkMail read it
 */

import { randomUUID } from 'node:crypto';

import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetRawMessageContentCommand,
  PutRawMessageContentCommand,
  WorkMailMessageFlowClient,
} from '@aws-sdk/client-workmailmessageflow';

const messageFlow = new WorkMailMessageFlowClient({});
const s3 = new S3Client({});

const DEFAULT_FOR_EVERYONE = { actions: [{ allRecipients: true, action: { type: 'DEFAULT' } }] };

export const handler = async (event) => {
  const { messageId } = event;
  if (event.flowDirection !== 'INBOUND') {
    return DEFAULT_FOR_EVERYONE;
  }
  const tag = process.env.SUBJECT_TAG;

  const raw = await messageFlow.send(new GetRawMessageContentCommand({ messageId }));
  // latin1 maps each byte to one character and back: the rest of the message stays byte for byte.
  const message = Buffer.from(await raw.messageContent.transformToByteArray()).toString('latin1');
  const edited = tagSubject(message, tag);
  if (edited === null) {
    console.log(`Message ${messageId}: subject already starts with ${tag}`);
    return DEFAULT_FOR_EVERYONE;
  }

  const bucket = process.env.UPDATED_EMAIL_S3_BUCKET;
  const key = randomUUID();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(edited, 'latin1') }));
  try {
    await messageFlow.send(
      new PutRawMessageContentCommand({ messageId, content: { s3Reference: { bucket, key } } }),
    );
  } catch (error) {
    if (error.name !== 'MessageFrozen') {
      throw error;
    }
    console.log(`Message ${messageId} is frozen (redirected): delivered untagged`);
    return DEFAULT_FOR_EVERYONE;
  }
  console.log(`Message ${messageId}: subject tagged ${tag}`);
  return DEFAULT_FOR_EVERYONE;
};

/**
 * The message with `tag` in front of its subject (a Subject header is added when there is
 * none), or null when the subject already starts with it. Only the header block is read.
 */
export function tagSubject(message, tag) {
  const blank = message.search(/\r?\n\r?\n/);
  const headerEnd = blank === -1 ? message.length : blank;
  const header = message.slice(0, headerEnd);
  const subject = /^subject:[ \t]*/im.exec(header);
  if (subject === null) {
    const newline = header.includes('\r\n') ? '\r\n' : '\n';
    return `${header}${newline}Subject: ${tag}${message.slice(headerEnd)}`;
  }
  const start = subject.index + subject[0].length;
  if (message.startsWith(tag, start)) {
    return null;
  }
  return `${message.slice(0, start)}${tag} ${message.slice(start)}`;
}
