// The Drizzle schema of the example: two tables, encrypted columns declared where the other
// columns are. Compare with an ordinary schema: only the column builders and the fieldseal() call differ.
import { relations } from 'drizzle-orm';
import { integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { encryptedDate, encryptedText, fieldseal, fieldsealHeader } from '@fieldseal/drizzle';

export const users = pgTable('example_users', {
  id: serial('id').primaryKey(),
  tenantId: text('tenant_id').notNull(),
  name: text('name').notNull(),
  email: encryptedText('email'), // a string in your code, a ciphertext in the database
  ssn: encryptedText('ssn', { group: 'restricted' }), // sealed under another keyring
  birthday: encryptedDate('birthday'), // a Date in your code
  emailBidx: text('email_bidx'), // the email's beacon: lets eq(users.email, …) find rows
  fieldseal: fieldsealHeader('fieldseal'), // each row's header (wrapped data keys, MACs)
  createdAt: timestamp('created_at').defaultNow().notNull(),
});

// The id is bound automatically (primary key); bind the tenant too, store the table name in the
// header, and say where the email's beacon goes.
fieldseal(users, {
  contextColumns: { tenant: users.tenantId },
  context: { table: 'example_users' },
  beacons: { email: users.emailBidx },
});

export const notes = pgTable('example_notes', {
  id: serial('id').primaryKey(),
  userId: integer('user_id').notNull(),
  title: text('title').notNull(),
  body: encryptedText('body'),
  fieldseal: fieldsealHeader('fieldseal'),
});

export const usersRelations = relations(users, ({ many }) => ({ notes: many(notes) }));
export const notesRelations = relations(notes, ({ one }) => ({ author: one(users, { fields: [notes.userId], references: [users.id] }) }));

export const schema = { users, notes, usersRelations, notesRelations };

export const DDL = `
  create table if not exists example_users (
    id serial primary key, tenant_id text not null, name text not null,
    email text, ssn text, birthday text, email_bidx text, fieldseal text,
    created_at timestamp not null default now());
  create index if not exists example_users_email_bidx on example_users (email_bidx);
  create table if not exists example_notes (
    id serial primary key, user_id integer not null, title text not null, body text, fieldseal text);`;
