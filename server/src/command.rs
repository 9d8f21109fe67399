//! The one write path. A command runs inside its own savepoint of the event log writer's batch
//! transaction: it checks access, writes its rows, and appends zero or more events to one or
//! more scopes through [`Ctx`]. Either all of that commits or none of it does, and a failing
//! command never fails its neighbours. Commands with a client id are idempotent by
//! (user, client id): a retry returns the first run's output without running again.

use sqlx::Acquire;
use xietong::{
    ClientMsgId, Command, CommandOutput, CurrentUser, ErrorCode, Event, EventBody, Scope, Seq,
    UserId,
};

use crate::access::{self, Denied, Need};
use crate::store::{self, now_ms, Conn, StoreError};

/// Who is online now, for the commands whose effect depends on it (`@here`). The hub answers
/// in a running server; `NobodyOnline` where commands run without one.
pub trait Presence: Send + Sync {
    fn is_online(&self, user: UserId) -> bool;

    /// The ways out this deployment has (none where commands run without a server).
    fn outlets(&self) -> crate::notify::Outlets {
        crate::notify::Outlets::default()
    }
}

impl Presence for crate::hub::Hub {
    fn is_online(&self, user: UserId) -> bool {
        crate::hub::Hub::is_online(self, user)
    }

    fn outlets(&self) -> crate::notify::Outlets {
        crate::hub::Hub::outlets(self)
    }
}

pub struct NobodyOnline;

impl Presence for NobodyOnline {
    fn is_online(&self, _: UserId) -> bool {
        false
    }
}

/// Who runs a command.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The server itself (first-start seeding).
    System,
    User(CurrentUser),
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CommandError {
    fn from(e: sqlx::Error) -> Self {
        CommandError::Store(StoreError::Db(e))
    }
}

impl From<Denied> for CommandError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NotFound(_) => CommandError::NotFound(d.to_string()),
            Denied::Forbidden(_) => CommandError::Forbidden(d.to_string()),
            Denied::Store(e) => CommandError::Store(e),
        }
    }
}

impl From<xietong::ValidationError> for CommandError {
    fn from(e: xietong::ValidationError) -> Self {
        CommandError::Invalid(e.to_string())
    }
}

impl CommandError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CommandError::Invalid(_) => ErrorCode::Invalid,
            CommandError::NotFound(_) => ErrorCode::NotFound,
            CommandError::Forbidden(_) => ErrorCode::Forbidden,
            CommandError::Conflict(_) => ErrorCode::Conflict,
            CommandError::Store(_) if self.duplicate() || self.crossed() => ErrorCode::Conflict,
            CommandError::Store(_) => ErrorCode::Internal,
        }
    }

    /// What the client is told: the reason for expected refusals, nothing internal.
    pub fn public_message(&self) -> String {
        match self {
            CommandError::Store(_) if self.duplicate() => {
                "that already exists: someone saved the same a moment ago".into()
            }
            CommandError::Store(_) if self.crossed() => {
                "another change crossed this one; try again".into()
            }
            CommandError::Store(_) => "the server could not apply this; retry".into(),
            other => other.to_string(),
        }
    }

    fn database_error(&self) -> Option<&dyn sqlx::error::DatabaseError> {
        match self {
            CommandError::Store(StoreError::Db(sqlx::Error::Database(d))) => Some(d.as_ref()),
            _ => None,
        }
    }

    /// A unique index refused a row another writer stored a moment before (two people giving
    /// a folder the same name at once: the command's own check could not see the other yet).
    fn duplicate(&self) -> bool {
        self.database_error()
            .is_some_and(|d| d.is_unique_violation())
    }

    /// PostgreSQL broke a deadlock between two writers that lock rows in different orders (a
    /// read receipt crossing a recall, two people mailing each other at once) by failing this
    /// one: run again, it goes through.
    pub fn crossed(&self) -> bool {
        self.database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == "40P01" || code == "40001")
    }
}

/// Attempts at a command alone in its batch that crossed another writer
/// (`CommandError::crossed`). In a batch, the locks earlier commands hold stay held, so a
/// retry there would meet the same cycle: a batch's crossed command fails alone.
pub(crate) const CROSSED_ATTEMPTS: usize = 3;

/// What a command sees while it runs: its transaction (a savepoint), its actor, and the events
/// it has appended so far.
pub struct Ctx<'c> {
    conn: &'c mut Conn,
    actor: &'c Actor,
    client_id: Option<&'c ClientMsgId>,
    at: i64,
    events: Vec<Event>,
    kinds: &'c mut access::KindMemo,
    facts: &'c mut BatchFacts,
    /// The batch's log writes held for its end (`None`: written at once).
    log: &'c mut Option<LogWrites>,
    presence: &'c dyn Presence,
}

impl<'c> Ctx<'c> {
    pub fn conn(&mut self) -> &mut Conn {
        self.conn
    }

    pub fn actor(&self) -> &Actor {
        self.actor
    }

    /// The signed-in user running this command; refused for the server's own commands that
    /// need one.
    pub fn user(&self) -> Result<&'c CurrentUser, CommandError> {
        match self.actor {
            Actor::User(user) => Ok(user),
            Actor::System => Err(CommandError::Forbidden("needs a user".into())),
        }
    }

    pub fn client_id(&self) -> Option<&'c ClientMsgId> {
        self.client_id
    }

    /// Whether `user` has the app open anywhere right now.
    pub fn is_online(&self, user: UserId) -> bool {
        self.presence.is_online(user)
    }

    /// The ways out (email, SMS, webhook) this deployment has.
    pub fn outlets(&self) -> crate::notify::Outlets {
        self.presence.outlets()
    }

    /// The command's time: every row and event it writes carries the same one.
    pub fn now(&self) -> i64 {
        self.at
    }

    /// Refuses unless the actor may `need` the scope (the server may do anything).
    pub async fn require(&mut self, scope: Scope, need: Need) -> Result<(), CommandError> {
        match self.actor {
            Actor::System => Ok(()),
            Actor::User(user) => {
                Ok(access::check_with(self.conn, user, scope, need, self.kinds).await?)
            }
        }
    }

    /// Refuses unless the actor administers the workspace (the server itself does). Takes the
    /// workspace scope's lock first, so administrative commands run one at a time on every node
    /// (two concurrent moves cannot make a loop of departments, nor two admins deactivate each
    /// other), and checks the actor as the database holds them now: an admin deactivated or
    /// demoted while this command waited in the queue is refused.
    pub async fn require_admin(&mut self) -> Result<(), CommandError> {
        store::lock_scope(self.conn, Scope::Workspace).await?;
        match self.actor {
            Actor::System => Ok(()),
            Actor::User(user) => Ok(access::administer_now(self.conn, user).await?),
        }
    }

    /// What this command's feature keeps for the rest of the batch (see [`BatchFacts`]): one
    /// `T` per batch, `T::default()` at first and again after any command of another kind.
    pub fn batch_facts<T: Default + Send + 'static>(&mut self) -> &mut T {
        self.facts.get()
    }

    /// Takes the next sequence number of `scope`, for an event whose body must name it (a
    /// message carries its own seq). Pass it to `append_at` before the command ends.
    pub async fn next_seq(&mut self, scope: Scope) -> Result<Seq, CommandError> {
        let Some(log) = self.log.as_mut() else {
            return Ok(store::next_seq(self.conn, scope).await?);
        };
        if let Some(head) = log.heads.get_mut(&scope) {
            head.0 += 1;
            return Ok(*head);
        }
        // The first number of this scope in the batch: the upsert takes its row lock, so the
        // numbers counted on from here are this transaction's alone.
        let seq = store::next_seq(self.conn, scope).await?;
        log.heads.insert(scope, seq);
        Ok(seq)
    }

    /// The next sequence number of each of several distinct scopes (`next_seq` for each, in
    /// fewer round trips: a message's unread marks go to every reader's own scope).
    pub async fn next_seqs(
        &mut self,
        scopes: &std::collections::BTreeSet<Scope>,
    ) -> Result<std::collections::HashMap<Scope, Seq>, CommandError> {
        let mut taken = std::collections::HashMap::with_capacity(scopes.len());
        let mut fresh = Vec::with_capacity(scopes.len());
        for scope in scopes {
            match self.log.as_mut().and_then(|log| log.heads.get_mut(scope)) {
                Some(head) => {
                    head.0 += 1;
                    taken.insert(*scope, *head);
                }
                None => fresh.push(*scope),
            }
        }
        let first = store::next_seqs(self.conn, &fresh).await?;
        if let Some(log) = self.log.as_mut() {
            log.heads.extend(first.iter().map(|(s, q)| (*s, *q)));
        }
        taken.extend(first);
        Ok(taken)
    }

    /// Adds rows to a table. In a batch applied without fences they are held and written with
    /// the batch's other held rows, in a few multi-row statements: before a command of another
    /// kind runs, and at the batch's end. So only rows that no command of this one's kind reads,
    /// changes or deletes may go through here (a message's search terms and unread marks: no
    /// post reads them); a row the command itself must read back is written with a query.
    pub async fn add_rows(
        &mut self,
        into: &'static store::RowsInto,
        rows: Vec<Vec<store::Cell>>,
    ) -> Result<(), CommandError> {
        match self.log.as_mut() {
            Some(log) => {
                log.hold_rows(into, false, rows);
                Ok(())
            }
            None => Ok(store::insert_rows(self.conn, into, &rows).await?),
        }
    }

    /// Adds one row to a table whose `id` column the database fills, and says its id. In a
    /// batch applied without fences the id is reserved (`store::reserve_ids`) and the row held
    /// as `add_rows` holds rows, under the same rule; a command that must read it back, or
    /// refer to it from a row written at once, calls `write_held_rows` first. Every row of
    /// such a table inserted by a command must come through here.
    pub async fn add_row_with_id(
        &mut self,
        into: &'static store::RowsInto,
        row: Vec<store::Cell>,
    ) -> Result<i64, CommandError> {
        if self.log.is_none() {
            return Ok(store::insert_returning_id(self.conn, into, &row).await?);
        }
        let known = self.facts.get::<ReservedIds>().0.get_mut(into.table);
        let id = match known.and_then(|ids| ids.take()) {
            Some(id) => id,
            None => {
                let mut ids = store::reserve_ids(self.conn, into.table).await?;
                let id = ids.take().ok_or_else(|| {
                    StoreError::Db(sqlx::Error::Protocol("no id was reserved".into()))
                })?;
                self.facts.get::<ReservedIds>().0.insert(into.table, ids);
                id
            }
        };
        let mut held = Vec::with_capacity(row.len() + 1);
        held.push(store::Cell::from(id));
        held.extend(row);
        if let Some(log) = self.log.as_mut() {
            log.hold_rows(into, true, vec![held]);
        }
        Ok(id)
    }

    /// Writes the rows this batch holds now (`add_rows`, `add_row_with_id`), so that what
    /// follows may read them or refer to them.
    pub async fn write_held_rows(&mut self) -> Result<(), CommandError> {
        if let Some(log) = self.log.as_mut() {
            log.write_rows(self.conn).await?;
        }
        Ok(())
    }

    /// The last sequence number of `scope`, counting events this batch has not written yet.
    pub async fn head(&mut self, scope: Scope) -> Result<Seq, CommandError> {
        if let Some(head) = self.log.as_ref().and_then(|log| log.heads.get(&scope)) {
            return Ok(*head);
        }
        Ok(store::head(self.conn, scope).await?)
    }

    /// Rewrites a scope's stored events (`store::redact`), including those this batch holds.
    pub async fn redact(
        &mut self,
        scope: Scope,
        prefixes: &[String],
        body: &EventBody,
    ) -> Result<u64, CommandError> {
        if let Some(log) = self.log.as_mut() {
            log.write_events(self.conn).await?;
        }
        Ok(store::redact(self.conn, scope, prefixes, body).await?)
    }

    /// Appends an event at a sequence number taken with `next_seq`.
    pub async fn append_at(
        &mut self,
        scope: Scope,
        seq: Seq,
        body: impl Into<EventBody>,
    ) -> Result<(), CommandError> {
        self.record(scope, seq, body.into(), true).await
    }

    /// Appends an event that does not say who caused it (a vote: who voted for what is nobody's
    /// business) nor with which command.
    pub async fn append_unsigned(
        &mut self,
        scope: Scope,
        body: impl Into<EventBody>,
    ) -> Result<Seq, CommandError> {
        let seq = self.next_seq(scope).await?;
        self.record(scope, seq, body.into(), false).await?;
        Ok(seq)
    }

    /// Writes an event, signed with its actor and command or not.
    async fn record(
        &mut self,
        scope: Scope,
        seq: Seq,
        body: EventBody,
        signed: bool,
    ) -> Result<(), CommandError> {
        let actor = match self.actor {
            Actor::User(u) if signed => Some(u.id),
            _ => None,
        };
        let event = Event {
            scope,
            seq,
            actor,
            at: self.at,
            client_id: if signed {
                self.client_id.cloned()
            } else {
                None
            },
            body,
        };
        match self.log.as_mut() {
            Some(log) => log.events.push(event.clone()),
            None => store::insert_event(self.conn, &event).await?,
        }
        self.events.push(event);
        Ok(())
    }

    /// Appends an event to a scope's log.
    pub async fn append(
        &mut self,
        scope: Scope,
        body: impl Into<EventBody>,
    ) -> Result<Seq, CommandError> {
        let seq = self.next_seq(scope).await?;
        self.append_at(scope, seq, body).await?;
        Ok(seq)
    }
}

/// Routes a command to the feature that owns it. A feature adds one line here.
async fn execute(ctx: &mut Ctx<'_>, command: &Command) -> Result<CommandOutput, CommandError> {
    match command {
        Command::PostMessage(c) => crate::chat::commands::post_message(ctx, c).await,
        Command::CreateChannel(c) => crate::chat::commands::create_channel(ctx, c).await,
        Command::AddMembers(c) => crate::chat::commands::add_members(ctx, c).await,
        Command::RemoveMember(c) => crate::chat::commands::remove_member(ctx, c).await,
        Command::EditMessage(c) => crate::chat::messages::edit_message(ctx, c).await,
        Command::DeleteMessage(c) => crate::chat::messages::delete_message(ctx, c).await,
        Command::React(c) => crate::chat::messages::react(ctx, c).await,
        Command::PinMessage(c) => crate::chat::messages::pin_message(ctx, c).await,
        Command::MarkRead(c) => crate::chat::unread::mark_read(ctx, c).await,
        Command::UpdateSettings(c) => crate::settings::update_settings(ctx, c).await,
        Command::SeeNotifications(c) => crate::notify::centre::see(ctx, c).await,
        Command::UpdateWorkspaceSettings(c) => {
            crate::settings::update_workspace_settings(ctx, c).await
        }
        Command::CreateDepartment(c) => crate::org::departments::create(ctx, c).await,
        Command::RenameDepartment(c) => crate::org::departments::rename(ctx, c).await,
        Command::MoveDepartment(c) => crate::org::departments::move_to(ctx, c).await,
        Command::RemoveDepartment(c) => crate::org::departments::remove(ctx, c).await,
        Command::CreateRole(c) => crate::org::people::create_role(ctx, c).await,
        Command::RemoveRole(c) => crate::org::people::remove_role(ctx, c).await,
        Command::UpdatePerson(c) => crate::org::people::update_person(ctx, c).await,
        Command::SetPersonActive(c) => crate::org::people::set_active(ctx, c).await,
        Command::ImportPeople(c) => crate::org::import::import_people(ctx, c).await,
        Command::CreateFolder(c) => crate::files::cabinet::create_folder(ctx, c).await,
        Command::SaveUpload(c) => crate::files::cabinet::save_upload(ctx, c).await,
        Command::RenameEntry(c) => crate::files::cabinet::rename(ctx, c).await,
        Command::MoveEntry(c) => crate::files::cabinet::move_to(ctx, c).await,
        Command::DeleteEntry(c) => crate::files::cabinet::delete(ctx, c).await,
        Command::RestoreEntry(c) => crate::files::cabinet::restore(ctx, c).await,
        Command::EmptyRecycleBin(c) => crate::files::cabinet::empty_recycle_bin(ctx, c).await,
        Command::ShareEntry(c) => crate::files::sharing::share(ctx, c).await,
        Command::Unshare(c) => crate::files::sharing::unshare(ctx, c).await,
        Command::CreateShareLink(c) => crate::files::sharing::create_link(ctx, c).await,
        Command::DeleteShareLink(c) => crate::files::sharing::delete_link(ctx, c).await,
        Command::SaveContact(c) => crate::contacts::save(ctx, c).await,
        Command::RemoveContact(c) => crate::contacts::remove(ctx, c).await,
        Command::CreateContactGroup(c) => crate::contacts::create_group(ctx, c).await,
        Command::RemoveContactGroup(c) => crate::contacts::remove_group(ctx, c).await,
        Command::ImportContacts(c) => crate::contacts::import(ctx, c).await,
        Command::DefineField(c) => crate::org::fields::define(ctx, c).await,
        Command::RemoveField(c) => crate::org::fields::remove(ctx, c).await,
        Command::SetMyFields(c) => crate::org::fields::set_mine(ctx, c).await,
        Command::SaveNotificationSettings(c) => crate::notify::settings::save(ctx, c).await,
        Command::SendShortMessage(c) => crate::short_messages::send(ctx, c).await,
        Command::ReadShortMessage(c) => crate::short_messages::read(ctx, c).await,
        Command::DefineNoticeType(c) => crate::notices::define_type(ctx, c).await,
        Command::RemoveNoticeType(c) => crate::notices::remove_type(ctx, c).await,
        Command::SaveNotice(c) => crate::notices::save(ctx, c).await,
        Command::PublishNotice(c) => crate::notices::publish(ctx, c).await,
        Command::ReviewNotice(c) => crate::notices::review(ctx, c).await,
        Command::WithdrawNotice(c) => crate::notices::withdraw(ctx, c).await,
        Command::ReadNotice(c) => crate::notices::read(ctx, c).await,
        Command::AcknowledgeNotice(c) => crate::notices::acknowledge(ctx, c).await,
        Command::RemindNotice(c) => crate::notices::remind(ctx, c).await,
        Command::ReleaseNotice(c) => crate::notices::release_due(ctx, c).await,
        Command::SaveNewsColumn(c) => crate::news::save_column(ctx, c).await,
        Command::SaveStory(c) => crate::news::save_story(ctx, c).await,
        Command::PublishStory(c) => crate::news::publish(ctx, c).await,
        Command::WithdrawStory(c) => crate::news::withdraw(ctx, c).await,
        Command::ReleaseStory(c) => crate::news::release_due(ctx, c).await,
        Command::ViewStory(c) => crate::news::view(ctx, c).await,
        Command::LikeStory(c) => crate::news::like(ctx, c).await,
        Command::CommentOnStory(c) => crate::news::comment(ctx, c).await,
        Command::HideStoryComment(c) => crate::news::hide_comment(ctx, c).await,
        Command::ShareStory(c) => crate::news::share(ctx, c).await,
        Command::SaveForumSection(c) => crate::forum::save_section(ctx, c).await,
        Command::StartTopic(c) => crate::forum::start_topic(ctx, c).await,
        Command::ReplyToTopic(c) => crate::forum::reply(ctx, c).await,
        Command::AcceptAnswer(c) => crate::forum::accept_answer(ctx, c).await,
        Command::CastVote(c) => crate::forum::cast_vote(ctx, c).await,
        Command::ModerateTopic(c) => crate::forum::moderate(ctx, c).await,
        Command::MuteInSection(c) => crate::forum::mute(ctx, c).await,
        Command::SaveMail(c) => crate::mail::save(ctx, c).await,
        Command::ReadMail(c) => crate::mail::read(ctx, c).await,
        Command::RecallMail(c) => crate::mail::recall(ctx, c).await,
        Command::MoveMail(c) => crate::mail::move_to(ctx, c).await,
        Command::DeleteMail(c) => crate::mail::delete(ctx, c).await,
        Command::SaveMailFolder(c) => crate::mail::save_folder(ctx, c).await,
    }
}

/// Slow work a command needs done before it is queued, off the write path (hashing a
/// password). Every way a browser sends a command calls this first.
pub async fn prepare(
    state: &crate::AppState,
    user: &CurrentUser,
    command: &mut Command,
) -> Result<(), CommandError> {
    match command {
        Command::CreateShareLink(c) => crate::files::sharing::prepare_link(state, user, c).await,
        _ => Ok(()),
    }
}

/// A command waiting in the writer's queue.
#[derive(Debug, Clone)]
pub struct Submission {
    pub actor: Actor,
    pub client_id: Option<ClientMsgId>,
    pub command: Command,
}

/// A command's result once committed.
#[derive(Debug, Clone)]
pub struct Applied {
    pub output: CommandOutput,
    /// The events it appended, in order (none for a duplicate: they were published the first
    /// time).
    pub events: Vec<Event>,
    /// The client id had been applied before; `output` is the first run's.
    pub duplicate: bool,
}

/// What one batch of commands reads once and every command in it reuses.
#[derive(Default)]
pub struct BatchMemo {
    /// Stored outputs of commands applied before, by (user, client id), read for the whole
    /// batch in one query (`None`: look each command up on its own).
    applied: Option<std::collections::HashMap<(i64, String), String>>,
    kinds: access::KindMemo,
    facts: BatchFacts,
    /// Log writes held for the batch's end (`BatchMemo::hold_log_writes`).
    log: Option<LogWrites>,
}

/// Facts a feature reads once and reuses for the following commands of the same kind in a
/// batch (a channel and its members, read for every message posted to it): under load a batch
/// holds hundreds of messages to a few channels, and each read saved is a round trip to the
/// database on the write path. A feature may keep a fact here only if no command of the kind
/// that read it can change it; the batch forgets everything when a command of another kind
/// runs (it may change anything) and after a failed command. On PostgreSQL a fact stays true
/// for the batch only if other nodes' changes to it take a lock this batch holds (after a
/// channel's creation, which commits its row and first members together, its members change
/// only with an event in the channel's scope, whose head row the batch locked with the first
/// message it posted there).
#[derive(Default)]
pub struct BatchFacts {
    /// The kind of command the facts were read under.
    kind: Option<std::mem::Discriminant<Command>>,
    by_type: std::collections::HashMap<std::any::TypeId, Box<dyn std::any::Any + Send>>,
}

impl BatchFacts {
    /// Forgets what was kept unless `command` is of the kind it was kept under; says whether
    /// the kind changed.
    fn before(&mut self, command: &Command) -> bool {
        let kind = std::mem::discriminant(command);
        let changed = self.kind != Some(kind);
        if changed {
            self.forget();
            self.kind = Some(kind);
        }
        changed
    }

    fn forget(&mut self) {
        self.kind = None;
        self.by_type.clear();
    }

    fn get<T: Default + Send + 'static>(&mut self) -> &mut T {
        self.by_type
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("each entry is keyed by the type it holds")
    }
}

/// Ids a batch reserved per table (`Ctx::add_row_with_id`). Kept with the batch's facts, so
/// they are dropped when a command of another kind runs — when the rows held with them are
/// written, and before that command may insert rows of its own.
#[derive(Default)]
struct ReservedIds(std::collections::HashMap<&'static str, store::ReservedIds>);

/// The event log rows of a batch applied without fences, written at its end in a few
/// multi-row statements (`BatchMemo::write_held`) instead of one round trip per row: under
/// fan-out load each round trip to the database waits for a busy runtime, so a batch's commit
/// time grows with their number. A failure there fails the attempt, which the writer redoes
/// fenced, writing at once.
#[derive(Default)]
pub struct LogWrites {
    /// Per scope, the last number taken; its row is locked by the first `next_seq`.
    heads: std::collections::HashMap<Scope, Seq>,
    events: Vec<Event>,
    /// `commands` rows: user, client id, output, time.
    commands: Vec<Vec<store::Cell>>,
    /// Features' rows held by `Ctx::add_rows` and `Ctx::add_row_with_id`, by table (and
    /// whether their first value is a reserved id), written in the order first held, those
    /// with reserved ids first: a held row may refer only to rows written before it or to a
    /// row with a reserved id.
    rows: Vec<(&'static store::RowsInto, bool, Vec<Vec<store::Cell>>)>,
}

const COMMANDS: store::RowsInto = store::RowsInto {
    table: "commands",
    columns: "user_id, client_id, output, created_at",
    count: 4,
    then: "",
};

impl LogWrites {
    async fn write_events(&mut self, conn: &mut Conn) -> Result<(), StoreError> {
        store::insert_events(conn, &self.events).await?;
        self.events.clear();
        Ok(())
    }

    /// Writes the features' held rows (before a command of another kind, which may read them).
    async fn write_rows(&mut self, conn: &mut Conn) -> Result<(), StoreError> {
        // Rows with reserved ids first: others refer to them (a notification to its message),
        // and a flush in the middle of a command may have left theirs behind the others.
        let mut groups: Vec<_> = self.rows.drain(..).collect();
        groups.sort_by_key(|(_, with_id, _)| !*with_id);
        for (into, with_id, rows) in groups {
            store::insert_rows_as(conn, into, &rows, with_id).await?;
        }
        Ok(())
    }

    fn hold_rows(
        &mut self,
        into: &'static store::RowsInto,
        with_id: bool,
        rows: Vec<Vec<store::Cell>>,
    ) {
        let group = self
            .rows
            .iter_mut()
            .find(|(table, ids, _)| *table == into && *ids == with_id);
        match group {
            Some((_, _, held)) => held.extend(rows),
            None => self.rows.push((into, with_id, rows)),
        }
    }

    async fn write(&mut self, conn: &mut Conn) -> Result<(), StoreError> {
        self.write_rows(conn).await?;
        self.write_events(conn).await?;
        let heads: Vec<(Scope, Seq)> = self.heads.drain().collect();
        store::set_heads(conn, &heads).await?;
        store::insert_rows(conn, &COMMANDS, &self.commands).await?;
        self.commands.clear();
        Ok(())
    }
}

/// Client ids looked up per query when preloading a batch's earlier outputs.
const LOOKUP_CHUNK: usize = 200;

impl BatchMemo {
    /// Reads the stored outputs of every command in `batch` that has a client id, in one
    /// query per `LOOKUP_CHUNK` commands.
    pub async fn preload(conn: &mut Conn, batch: &[Submission]) -> Result<BatchMemo, StoreError> {
        let keys: Vec<(i64, &str)> = batch
            .iter()
            .filter_map(|s| match (&s.actor, &s.client_id) {
                (Actor::User(u), Some(c)) => Some((u.id.0, c.0.as_str())),
                _ => None,
            })
            .collect();
        let mut applied = std::collections::HashMap::new();
        for chunk in keys.chunks(LOOKUP_CHUNK) {
            let terms: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let user = store::markers(conn, 2 * i + 1, 1);
                    let client_id = store::markers(conn, 2 * i + 2, 1);
                    format!("(user_id = {user} AND client_id = {client_id})")
                })
                .collect();
            let sql = format!(
                "SELECT user_id, client_id, output FROM commands WHERE {}",
                terms.join(" OR ")
            );
            let mut query = sqlx::query_as::<_, (i64, String, String)>(&sql);
            for (user, client_id) in chunk {
                query = query.bind(*user).bind(*client_id);
            }
            for (user, client_id, output) in query.fetch_all(&mut *conn).await? {
                applied.insert((user, client_id), output);
            }
        }
        Ok(BatchMemo {
            applied: Some(applied),
            kinds: access::KindMemo::new(),
            facts: BatchFacts::default(),
            log: None,
        })
    }

    /// From here on, the batch's event log rows wait for `write_held`. Only for commands
    /// applied without fences: a savepoint rolled back would not take back what is held.
    pub fn hold_log_writes(&mut self) {
        self.log = Some(LogWrites::default());
    }

    /// Writes what `hold_log_writes` held, before the batch commits.
    pub async fn write_held(&mut self, conn: &mut Conn) -> Result<(), StoreError> {
        match self.log.as_mut() {
            Some(log) => log.write(conn).await,
            None => Ok(()),
        }
    }
}

/// How a command is fenced off from its neighbours in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// In a savepoint of its own: its failure rolls back only its own writes.
    Savepoint,
    /// Straight in the batch's transaction: cheaper (two statements fewer per command), and
    /// only used when a failure makes the caller abandon and redo the whole batch fenced.
    None,
}

/// Runs one command inside `tx`. The inner result is the command's own (a refusal, or a
/// failure rolled back to its savepoint when fenced); the outer error means the transaction
/// itself is broken and the whole batch must be abandoned.
pub async fn apply(
    tx: &mut sqlx::Transaction<'_, store::Db>,
    submission: &Submission,
    fence: Fence,
    memo: &mut BatchMemo,
    presence: &dyn Presence,
) -> Result<Result<Applied, CommandError>, StoreError> {
    if fence == Fence::None {
        return Ok(run_once(tx, submission, memo, presence).await);
    }
    let mut savepoint = tx.begin().await?;
    match run_once(&mut savepoint, submission, memo, presence).await {
        Ok(applied) => {
            savepoint.commit().await?;
            Ok(Ok(applied))
        }
        Err(e) => {
            savepoint.rollback().await?;
            // What the command read or wrote is gone with it.
            memo.kinds.clear();
            memo.facts.forget();
            Ok(Err(e))
        }
    }
}

/// Answers a retry from the `commands` table, or runs the command and records its output
/// there.
async fn run_once(
    conn: &mut Conn,
    submission: &Submission,
    memo: &mut BatchMemo,
    presence: &dyn Presence,
) -> Result<Applied, CommandError> {
    let user_id = match &submission.actor {
        Actor::User(u) => Some(u.id),
        Actor::System => None,
    };
    let key = user_id.zip(submission.client_id.as_ref());
    if let Some((user, client_id)) = key {
        let stored: Option<String> = match &memo.applied {
            Some(applied) => applied.get(&(user.0, client_id.0.clone())).cloned(),
            None => {
                sqlx::query_scalar(
                    "SELECT output FROM commands WHERE user_id = $1 AND client_id = $2",
                )
                .bind(user.0)
                .bind(&client_id.0)
                .fetch_optional(&mut *conn)
                .await?
            }
        };
        if let Some(stored) = stored {
            let output = xietong::wire::decode_stored(&stored).map_err(StoreError::CorruptEvent)?;
            return Ok(Applied {
                output,
                events: Vec::new(),
                duplicate: true,
            });
        }
    }
    if memo.facts.before(&submission.command) {
        // A command of another kind may read the rows held for the earlier ones.
        if let Some(log) = &mut memo.log {
            log.write_rows(conn).await?;
        }
    }
    let mut ctx = Ctx {
        conn: &mut *conn,
        actor: &submission.actor,
        client_id: submission.client_id.as_ref(),
        at: now_ms(),
        events: Vec::new(),
        kinds: &mut memo.kinds,
        facts: &mut memo.facts,
        log: &mut memo.log,
        presence,
    };
    let output = match execute(&mut ctx, &submission.command).await {
        Ok(output) => output,
        Err(e) => {
            if e.duplicate() {
                // Told to the client as a conflict; kept in the log in case it is a bug.
                tracing::warn!(error = %e, "a unique index refused a command's row");
            }
            return Err(e);
        }
    };
    let at = ctx.at;
    let events = std::mem::take(&mut ctx.events);
    if let Some((user, client_id)) = key {
        let json = serde_json::to_string(&output).map_err(StoreError::CorruptEvent)?;
        if let Some(log) = &mut memo.log {
            // A retry of it later in the batch is answered from `applied`, below; one sent
            // twice at once from two nodes fails the held write, and the fenced redo says so.
            log.commands.push(vec![
                user.0.into(),
                client_id.0.as_str().into(),
                json.as_str().into(),
                at.into(),
            ]);
        } else {
            record_command(conn, user, client_id, &json, at).await?;
        }
        // A retry later in the same batch is answered from here.
        if let Some(applied) = &mut memo.applied {
            applied.insert((user.0, client_id.0.clone()), json);
        }
    }
    Ok(Applied {
        output,
        events,
        duplicate: false,
    })
}

/// Records a command's output under (user, client id), so a retry is answered from it.
async fn record_command(
    conn: &mut Conn,
    user: UserId,
    client_id: &ClientMsgId,
    json: &str,
    at: i64,
) -> Result<(), CommandError> {
    let recorded = sqlx::query(
        "INSERT INTO commands (user_id, client_id, output, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(user.0)
    .bind(&client_id.0)
    .bind(json)
    .bind(at)
    .execute(&mut *conn)
    .await;
    match recorded {
        Ok(_) => Ok(()),
        // The same command, sent twice at once (two nodes): the other one was applied.
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Err(CommandError::Conflict(
            "this was sent twice at once and applied once; reload to see it".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Every few seconds, on every node: runs, as the server, the command `command(id)` for each
/// id `due_sql` finds due at the time bound to `$1` (a scheduled notice or story to release).
/// A command run twice (two nodes) must be a no-op the second time; `what` names the work in
/// the log.
pub async fn run_due_now_and_then(
    store: crate::store::Store,
    log: crate::events::EventLog,
    stop: tokio_util::sync::CancellationToken,
    due_sql: &'static str,
    command: fn(i64) -> Command,
    what: &'static str,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
        }
        let due: Result<Vec<i64>, sqlx::Error> = sqlx::query_scalar(due_sql)
            .bind(now_ms())
            .fetch_all(store.pool())
            .await;
        match due {
            Ok(ids) => {
                for id in ids {
                    let submitted = log
                        .run(Submission {
                            actor: Actor::System,
                            client_id: None,
                            command: command(id),
                        })
                        .await;
                    if let Err(e) = submitted {
                        tracing::warn!(id, error = %e, "cannot {what}");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for what to {what}"),
        }
    }
}
