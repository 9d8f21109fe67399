//! Zulip's contract, against the real server and with the browser's own reducers: the state
//! fetched before, plus the events that arrived in between, equals a state fetched after.
//! Every feature adds a case here as it lands: its snapshot fetch, its scopes, its commands.

mod common;

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use app::chat::state::{ChannelView, WorkspaceView};
use app::live::{Applied, ScopeView};
use common::*;
use serde::de::DeserializeOwned;
use xietong::chat::{AddMembers, CreateChannel, RemoveMember};
use xietong::{ChannelKind, Command, CommandOutput, HistoryPage, Scope, UserId, WorkspaceSnapshot};

/// A server function's JSON answer.
async fn fetch<T: DeserializeOwned>(
    server: &TestServer,
    cookie: &str,
    endpoint: &str,
    form: &str,
) -> T {
    let response = server.server_fn(cookie, endpoint, form).await;
    assert!(
        response.status().is_success(),
        "{endpoint}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// An event as the browser's socket reads it: the envelope, and the body kept for its feature.
fn as_browser_reads(event: &xietong::Event) -> app::live::LiveEvent {
    serde_json::from_str(&serde_json::to_string(event).unwrap()).unwrap()
}

/// Fetches a snapshot, watches its scopes from its heads, runs `actions` (from other clients),
/// applies every event the observer receives, and compares with a fresh snapshot, both
/// seen through `compare` (what a fresh fetch can show: the latest page, say).
async fn holds<V, C, Fut>(
    observer: &mut Client,
    scopes: &[Scope],
    snapshot: impl Fn() -> Fut,
    compare: impl Fn(&V) -> C,
    actions: impl Future<Output = ()>,
) where
    V: ScopeView + Debug,
    C: PartialEq + Debug,
    Fut: Future<Output = V>,
{
    let mut view = snapshot().await;
    for scope in scopes {
        let (replayed, _) = observer.subscribe(*scope, Some(view.head(*scope))).await;
        for event in replayed {
            assert_eq!(
                view.apply(&as_browser_reads(&event)),
                Applied::Applied,
                "{event:?}"
            );
        }
    }
    actions.await;
    let after = snapshot().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while scopes.iter().any(|s| view.head(*s) < after.head(*s)) {
        let event = tokio::time::timeout_at(deadline, observer.next_event())
            .await
            .unwrap_or_else(|_| panic!("events stopped short of {after:?}"));
        assert_eq!(
            view.apply(&as_browser_reads(&event)),
            Applied::Applied,
            "{event:?}"
        );
    }
    for scope in scopes {
        assert_eq!(view.head(*scope), after.head(*scope), "{scope}");
    }
    assert_eq!(compare(&view), compare(&after));
}

async fn create(
    client: &mut Client,
    name: &str,
    kind: ChannelKind,
    members: Vec<UserId>,
) -> xietong::Channel {
    let id = client
        .command(Command::CreateChannel(CreateChannel {
            name: name.into(),
            kind,
            members,
        }))
        .await;
    match client.answer(&id).await {
        Ok((CommandOutput::ChannelCreated { channel }, _)) => channel,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_channel_page_plus_its_events_equals_the_page_fetched_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let mut observer = server.connect(&bob).await;
    let mut actor = server.connect(&alice).await;
    let channel = create(
        &mut actor,
        "project",
        ChannelKind::Private,
        vec![server.whoami(&bob).await.id],
    )
    .await;
    // More than two history pages of messages, and a membership change, while bob watches.
    let form = format!("channel={}", channel.id);
    let snapshot = || async {
        ChannelView::from_page(fetch::<HistoryPage>(&server, &bob, "history", &form).await)
    };
    let page = xietong::limits::HISTORY_PAGE as usize;
    let carol = server.sign_up("carol").await;
    let carol_id = server.whoami(&carol).await.id;
    holds(
        &mut observer,
        &[Scope::Channel(channel.id)],
        snapshot,
        |v: &ChannelView| v.latest_page(page),
        async {
            let mut last = None;
            for i in 0..(2 * page + 7) {
                last = Some(actor.post(channel.id, &format!("消息 {i}")).await);
            }
            actor.answer(&last.unwrap()).await.unwrap();
            let add = actor
                .command(Command::AddMembers(AddMembers {
                    channel: channel.id,
                    users: vec![carol_id],
                }))
                .await;
            actor.answer(&add).await.unwrap();
            let last = actor.post(channel.id, "the end").await;
            actor.answer(&last).await.unwrap();
        },
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn the_channel_list_plus_its_events_equals_the_list_fetched_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob).await.id;
    let mut observer = server.connect(&bob).await;
    let mut actor = server.connect(&alice).await;
    let snapshot = || async {
        WorkspaceView::from_snapshot(
            &fetch::<WorkspaceSnapshot>(&server, &bob, "workspace", "").await,
        )
    };
    holds(
        &mut observer,
        &[Scope::Workspace, Scope::User(bob_id)],
        snapshot,
        |v: &WorkspaceView| v.channels.clone(),
        async {
            create(&mut actor, "public one", ChannelKind::Public, vec![]).await;
            create(&mut actor, "with bob", ChannelKind::Private, vec![bob_id]).await;
            create(&mut actor, "without bob", ChannelKind::Private, vec![]).await;
            let left = create(&mut actor, "bob leaves", ChannelKind::Private, vec![bob_id]).await;
            create(&mut actor, "", ChannelKind::Direct, vec![bob_id]).await;
            let remove = actor
                .command(Command::RemoveMember(RemoveMember {
                    channel: left.id,
                    user: bob_id,
                }))
                .await;
            actor.answer(&remove).await.unwrap();
        },
    )
    .await;
    server.stop().await;
}

/// Sends a command and expects it applied.
async fn run(client: &mut Client, command: Command) -> CommandOutput {
    let id = client.command(command).await;
    client.answer(&id).await.expect("applied").0
}

async fn post_id(
    client: &mut Client,
    channel: xietong::ChannelId,
    body: &str,
    thread: Option<xietong::MessageId>,
) -> xietong::MessageId {
    let output = run(
        client,
        Command::PostMessage(xietong::chat::PostMessage {
            channel,
            body: body.into(),
            thread,
            attachments: Vec::new(),
        }),
    )
    .await;
    match output {
        CommandOutput::MessagePosted { message, .. } => message,
        other => panic!("{other:?}"),
    }
}

/// Threads, edits, deletes, reactions and pins: the channel page and the open thread, each
/// with its own reducer on the one channel scope, equal fresh fetches afterwards.
#[tokio::test]
async fn message_changes_and_threads_keep_the_contract() {
    use app::chat::state::ThreadView;
    use xietong::chat::{DeleteMessage, EditMessage, PinMessage, React, ThreadPage};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let mut actor = server.connect(&alice).await;
    let mut other = server.connect(&bob).await;
    let bob_id = server.whoami(&bob).await.id;
    let channel = create(&mut actor, "im", ChannelKind::Private, vec![bob_id]).await;
    let root = post_id(&mut actor, channel.id, "root", None).await;
    let doomed = post_id(&mut actor, channel.id, "doomed", None).await;

    let mut observer = server.connect(&bob).await;
    let form = format!("channel={}", channel.id);
    let page = xietong::limits::HISTORY_PAGE as usize;
    holds(
        &mut observer,
        &[Scope::Channel(channel.id)],
        || async {
            ChannelView::from_page(fetch::<HistoryPage>(&server, &bob, "history", &form).await)
        },
        |v: &ChannelView| v.latest_page(page),
        async {
            let reply = post_id(&mut actor, channel.id, "first reply", Some(root)).await;
            post_id(&mut other, channel.id, "second reply", Some(root)).await;
            for (by_alice, emoji, on) in [
                (true, "👍", true),
                (false, "🎉", true),
                (false, "👍", true),
                (true, "👍", false),
                (true, "👍", true),
                (false, "👍", true),
            ] {
                let client = if by_alice { &mut actor } else { &mut other };
                run(
                    client,
                    Command::React(React {
                        message: root,
                        emoji: emoji.into(),
                        on,
                    }),
                )
                .await;
            }
            run(
                &mut actor,
                Command::EditMessage(EditMessage {
                    message: root,
                    body: "root, edited".into(),
                }),
            )
            .await;
            run(
                &mut other,
                Command::PinMessage(PinMessage {
                    message: root,
                    pinned: true,
                }),
            )
            .await;
            run(
                &mut actor,
                Command::React(React {
                    message: doomed,
                    emoji: "❤️".into(),
                    on: true,
                }),
            )
            .await;
            run(
                &mut actor,
                Command::PinMessage(PinMessage {
                    message: doomed,
                    pinned: true,
                }),
            )
            .await;
            run(
                &mut actor,
                Command::DeleteMessage(DeleteMessage { message: doomed }),
            )
            .await;
            run(
                &mut actor,
                Command::EditMessage(EditMessage {
                    message: reply,
                    body: "reply, edited".into(),
                }),
            )
            .await;
        },
    )
    .await;

    // The thread panel's view of the same scope.
    let thread_form = format!("root={root}");
    holds(
        &mut observer,
        &[Scope::Channel(channel.id)],
        || async {
            ThreadView::from_page(fetch::<ThreadPage>(&server, &bob, "thread", &thread_form).await)
        },
        |v: &ThreadView| v.clone(),
        async {
            let reply = post_id(&mut other, channel.id, "third reply", Some(root)).await;
            run(
                &mut actor,
                Command::React(React {
                    message: reply,
                    emoji: "👀".into(),
                    on: true,
                }),
            )
            .await;
            run(
                &mut other,
                Command::DeleteMessage(DeleteMessage { message: reply }),
            )
            .await;
            run(
                &mut actor,
                Command::React(React {
                    message: root,
                    emoji: "🎉".into(),
                    on: true,
                }),
            )
            .await;
            post_id(&mut actor, channel.id, "not in the thread", None).await;
        },
    )
    .await;
    server.stop().await;
}

/// Unread counts: messages, mentions, a DM, reading in another tab, and losing a channel, as
/// my user scope tells them, equal the counts fetched after.
#[tokio::test]
async fn unread_counts_plus_their_events_equal_the_counts_fetched_after() {
    use xietong::chat::MarkRead;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob).await.id;
    let mut observer = server.connect(&bob).await;
    let mut other_tab = server.connect(&bob).await;
    let mut actor = server.connect(&alice).await;
    let read = |channel| {
        Command::MarkRead(MarkRead {
            channel,
            seq: xietong::Seq(u64::MAX),
        })
    };
    run(&mut other_tab, read(GENERAL)).await;
    let snapshot = || async {
        WorkspaceView::from_snapshot(
            &fetch::<WorkspaceSnapshot>(&server, &bob, "workspace", "").await,
        )
    };
    holds(
        &mut observer,
        &[Scope::Workspace, Scope::User(bob_id)],
        snapshot,
        |v: &WorkspaceView| {
            (
                v.unread.clone(),
                v.notifications.clone(),
                v.notifications_seen,
                v.notifications_unseen,
            )
        },
        async {
            post_id(&mut actor, GENERAL, "one", None).await;
            let root = post_id(&mut actor, GENERAL, "two @bob", None).await;
            let dm = create(&mut actor, "", ChannelKind::Direct, vec![bob_id]).await;
            post_id(&mut actor, dm.id, "私信", None).await;
            run(&mut other_tab, read(GENERAL)).await;
            post_id(&mut actor, GENERAL, "after reading", None).await;
            post_id(&mut actor, GENERAL, "in the thread @bob", Some(root)).await;
            // Bob looks at his notifications in the other tab; one more arrives after.
            run(
                &mut other_tab,
                Command::SeeNotifications(xietong::chat::SeeNotifications {
                    up_to: xietong::Seq(u64::MAX),
                }),
            )
            .await;
            post_id(&mut actor, dm.id, "还有一件事", None).await;
            let gone = create(&mut actor, "leaving", ChannelKind::Private, vec![bob_id]).await;
            post_id(&mut actor, gone.id, "soon gone", None).await;
            run(
                &mut actor,
                Command::RemoveMember(RemoveMember {
                    channel: gone.id,
                    user: bob_id,
                }),
            )
            .await;
        },
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn the_departments_plus_their_events_equal_the_departments_fetched_after() {
    use xietong::org::*;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("alice").await; // the first account: the admin
    let bob = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob).await.id;
    let carol = server.sign_up("carol").await;
    let carol_id = server.whoami(&carol).await.id;
    let mut observer = server.connect(&bob).await;
    let mut actor = server.connect(&admin).await;
    let snapshot = || async {
        app::org::OrgView::from_snapshot(
            fetch::<OrgSnapshot>(&server, &bob, "organisation", "").await,
        )
    };
    let department = |output: CommandOutput| match output {
        CommandOutput::DepartmentChanged { department, .. } => department,
        other => panic!("{other:?}"),
    };
    holds(
        &mut observer,
        &[Scope::Workspace],
        snapshot,
        |v: &app::org::OrgView| {
            let mut departments = v.departments.clone();
            departments.sort_by_key(|d| d.id);
            (
                departments,
                v.roles.clone(),
                v.people.clone(),
                v.fields.clone(),
            )
        },
        async {
            let new = |name: &str, parent| {
                Command::CreateDepartment(CreateDepartment {
                    name: name.into(),
                    parent,
                })
            };
            let hq = department(run(&mut actor, new("总部", None)).await);
            let tech = department(run(&mut actor, new("技术部", Some(hq))).await);
            let web = department(run(&mut actor, new("前端组", Some(tech))).await);
            // Channels in between: the workspace scope carries other features' events too.
            create(&mut actor, "between", ChannelKind::Public, vec![]).await;
            run(
                &mut actor,
                Command::RenameDepartment(RenameDepartment {
                    department: tech,
                    name: "研发部".into(),
                }),
            )
            .await;
            run(
                &mut actor,
                Command::MoveDepartment(MoveDepartment {
                    department: web,
                    parent: None,
                }),
            )
            .await;
            run(
                &mut actor,
                Command::RemoveDepartment(RemoveDepartment { department: tech }),
            )
            .await;
            // Roles and people: set, a role removed from whoever had it, deactivated.
            let role = |output: CommandOutput| match output {
                CommandOutput::RoleChanged { role } => role,
                other => panic!("{other:?}"),
            };
            let hr = role(
                run(
                    &mut actor,
                    Command::CreateRole(CreateRole { name: "HR".into() }),
                )
                .await,
            );
            let finance = role(
                run(
                    &mut actor,
                    Command::CreateRole(CreateRole {
                        name: "财务".into(),
                    }),
                )
                .await,
            );
            run(
                &mut actor,
                Command::UpdatePerson(UpdatePerson {
                    person: bob_id,
                    full_name: "鲍勃".into(),
                    title: "工程师".into(),
                    main_department: Some(hq),
                    other_departments: vec![web],
                    roles: vec![hr, finance],
                    mobile: Some("138 0013 8000".into()),
                    email: Some("bob@example.com".into()),
                }),
            )
            .await;
            run(&mut actor, Command::RemoveRole(RemoveRole { role: hr })).await;
            run(
                &mut actor,
                Command::SetPersonActive(SetPersonActive {
                    person: carol_id,
                    active: false,
                }),
            )
            .await;
            // Address book fields: defined, filled in (one hidden), one removed.
            let field = |output: CommandOutput| match output {
                CommandOutput::FieldChanged { field } => field,
                other => panic!("{other:?}"),
            };
            let phone = field(
                run(
                    &mut actor,
                    Command::DefineField(DefineField {
                        name: "分机".into(),
                        hideable: false,
                    }),
                )
                .await,
            );
            let home = field(
                run(
                    &mut actor,
                    Command::DefineField(DefineField {
                        name: "住址".into(),
                        hideable: true,
                    }),
                )
                .await,
            );
            run(
                &mut actor,
                Command::SetMyFields(SetMyFields {
                    values: vec![
                        FieldValue {
                            field: phone,
                            value: "8021".into(),
                        },
                        FieldValue {
                            field: home,
                            value: "上海".into(),
                        },
                    ],
                    hidden: vec![home],
                }),
            )
            .await;
            run(
                &mut actor,
                Command::RemoveField(RemoveField { field: phone }),
            )
            .await;
        },
    )
    .await;
    server.stop().await;
}

fn entry_of(output: CommandOutput) -> xietong::files::EntryId {
    match output {
        CommandOutput::EntryChanged { entry } => entry,
        other => panic!("{other:?}"),
    }
}

/// The file cabinet three ways: its owner's (every change, sharing and links included), a
/// reader's "Shared with me", and a shared folder followed by someone it is shared with.
#[tokio::test]
async fn the_cabinet_and_its_shares_plus_their_events_equal_what_is_fetched_after() {
    use app::files::CabinetView;
    use xietong::files::*;
    use xietong::org::AudienceMember;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob).await.id;
    let mut actor = server.connect(&alice).await;
    let cabinet = |cookie: String| {
        let server = &server;
        move || {
            let cookie = cookie.clone();
            async move {
                CabinetView::from_snapshot(
                    fetch::<CabinetSnapshot>(server, &cookie, "cabinet", "").await,
                )
            }
        }
    };
    let compare = |v: &CabinetView| {
        let mut entries = v.cabinet.entries.clone();
        entries.sort_by_key(|e| e.id);
        (entries, v.cabinet.usage, v.cabinet.shared.clone())
    };
    let alice_id = server.whoami(&alice).await.id;
    let folder = entry_of(
        run(
            &mut actor,
            Command::CreateFolder(CreateFolder {
                parent: None,
                name: "共享".into(),
            }),
        )
        .await,
    );

    // The owner's cabinet.
    let mut observer = server.connect(&alice).await;
    holds(
        &mut observer,
        &[Scope::User(alice_id)],
        cabinet(alice.clone()),
        compare,
        async {
            let up = uploaded(&server, &alice, "报告.txt", "第一版".as_bytes()).await;
            let file = entry_of(
                run(
                    &mut actor,
                    Command::SaveUpload(SaveUpload {
                        upload: up,
                        parent: Some(folder),
                    }),
                )
                .await,
            );
            let up = uploaded(&server, &alice, "报告.txt", "第二版".as_bytes()).await;
            run(
                &mut actor,
                Command::SaveUpload(SaveUpload {
                    upload: up,
                    parent: Some(folder),
                }),
            )
            .await;
            run(
                &mut actor,
                Command::ShareEntry(ShareEntry {
                    entry: folder,
                    audience: vec![AudienceMember::Person(bob_id)],
                    permission: Permission::Edit,
                }),
            )
            .await;
            let token = match run(
                &mut actor,
                Command::CreateShareLink(CreateShareLink {
                    entry: file,
                    password: String::new(),
                    expires_at: None,
                    password_hash: None,
                }),
            )
            .await
            {
                CommandOutput::ShareLinkCreated { token, .. } => token,
                other => panic!("{other:?}"),
            };
            run(
                &mut actor,
                Command::DeleteShareLink(DeleteShareLink { entry: file, token }),
            )
            .await;
            run(
                &mut actor,
                Command::RenameEntry(RenameEntry {
                    entry: file,
                    name: "年报.txt".into(),
                }),
            )
            .await;
            run(
                &mut actor,
                Command::DeleteEntry(DeleteEntry { entry: file }),
            )
            .await;
            run(&mut actor, Command::EmptyRecycleBin(EmptyRecycleBin {})).await;
        },
    )
    .await;

    // Bob's "Shared with me", and the shared folder he follows, while Alice works in it.
    let mut bob_observer = server.connect(&bob).await;
    holds(
        &mut bob_observer,
        &[Scope::User(bob_id)],
        cabinet(bob.clone()),
        compare,
        async {
            run(
                &mut actor,
                Command::RenameEntry(RenameEntry {
                    entry: folder,
                    name: "共享资料".into(),
                }),
            )
            .await;
            let other = entry_of(
                run(
                    &mut actor,
                    Command::CreateFolder(CreateFolder {
                        parent: None,
                        name: "另一个".into(),
                    }),
                )
                .await,
            );
            run(
                &mut actor,
                Command::ShareEntry(ShareEntry {
                    entry: other,
                    audience: vec![AudienceMember::Everyone],
                    permission: Permission::View,
                }),
            )
            .await;
            run(
                &mut actor,
                Command::Unshare(Unshare {
                    entry: other,
                    member: AudienceMember::Everyone,
                }),
            )
            .await;
        },
    )
    .await;
    let mut follower = server.connect(&bob).await;
    let shared = || async {
        let found: SharedSnapshot =
            fetch(&server, &bob, "shared_entry", &format!("root={folder}")).await;
        CabinetView::from_snapshot(found.cabinet)
    };
    holds(
        &mut follower,
        &[Scope::Shared(folder)],
        shared,
        |v: &CabinetView| {
            let mut entries = v.cabinet.entries.clone();
            entries.retain(|e| e.deleted_at.is_none());
            entries.sort_by_key(|e| e.id);
            entries
        },
        async {
            let sub = entry_of(
                run(
                    &mut actor,
                    Command::CreateFolder(CreateFolder {
                        parent: Some(folder),
                        name: "子目录".into(),
                    }),
                )
                .await,
            );
            let up = uploaded(&server, &alice, "a.txt", b"a").await;
            let file = entry_of(
                run(
                    &mut actor,
                    Command::SaveUpload(SaveUpload {
                        upload: up,
                        parent: Some(sub),
                    }),
                )
                .await,
            );
            run(
                &mut actor,
                Command::MoveEntry(MoveEntry {
                    entry: file,
                    parent: Some(folder),
                }),
            )
            .await;
            run(&mut actor, Command::DeleteEntry(DeleteEntry { entry: sub })).await;
        },
    )
    .await;
    server.stop().await;
}

/// Personal contacts: a user's contacts and groups plus the events of their own scope equal
/// what they fetch after — saves, edits, groups removed under contacts, a vCard import.
#[tokio::test]
async fn my_contacts_plus_their_events_equal_the_contacts_fetched_after() {
    use app::contacts::personal::ContactsView;
    use xietong::contacts::*;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let alice_id = server.whoami(&alice).await.id;
    let mut observer = server.connect(&alice).await;
    let mut actor = server.connect(&alice).await;
    holds(
        &mut observer,
        &[Scope::User(alice_id)],
        || async { app::live::Mine(fetch::<MyContacts>(&server, &alice, "my_contacts", "").await) },
        |v: &ContactsView| (v.0.contacts.clone(), v.0.groups.clone()),
        async {
            let group = match run(
                &mut actor,
                Command::CreateContactGroup(CreateContactGroup {
                    name: "客户".into(),
                }),
            )
            .await
            {
                CommandOutput::ContactGroupChanged { group } => group,
                other => panic!("{other:?}"),
            };
            let contact = match run(
                &mut actor,
                Command::SaveContact(SaveContact {
                    contact: None,
                    fields: ContactFields {
                        name: "王经理".into(),
                        group: Some(group),
                        ..Default::default()
                    },
                }),
            )
            .await
            {
                CommandOutput::ContactChanged { contact } => contact,
                other => panic!("{other:?}"),
            };
            let imported = http()
                .post(format!(
                    "{}/contacts/mine/import?client_id=contract-import-1",
                    server.base()
                ))
                .header("cookie", &alice)
                .body("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:赵敏\r\nEND:VCARD\r\n")
                .send()
                .await
                .unwrap();
            assert_eq!(imported.status(), 200);
            run(
                &mut actor,
                Command::RemoveContactGroup(RemoveContactGroup { group }),
            )
            .await;
            run(
                &mut actor,
                Command::RemoveContact(RemoveContact { contact }),
            )
            .await;
        },
    )
    .await;
    server.stop().await;
}

/// Short messages: the recipient's list and "Notifications" list, and the sender's "Sent"
/// list with who read what, plus their user scopes' events, equal what each fetches after.
#[tokio::test]
async fn short_messages_and_notifications_plus_their_events_equal_what_is_fetched_after() {
    use app::short_messages::MessagesView;
    use xietong::org::AudienceMember;
    use xietong::short_messages::*;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let alice_id = server.whoami(&alice).await.id;
    let bob_id = server.whoami(&bob).await.id;
    let send = |text: &str, urgent: bool| {
        Command::SendShortMessage(SendShortMessage {
            to: vec![AudienceMember::Person(bob_id)],
            text: text.into(),
            urgent,
        })
    };
    let read = |out: CommandOutput| match out {
        CommandOutput::ShortMessageSent { id, .. } => {
            Command::ReadShortMessage(ReadShortMessage { id })
        }
        other => panic!("{other:?}"),
    };
    // Bob's view: received messages and his notifications.
    let mut observer = server.connect(&bob).await;
    let mut alice_tab = server.connect(&alice).await;
    let mut bob_tab = server.connect(&bob).await;
    for _ in 0..3 {
        bob_tab.next_client_id();
    }
    holds(
        &mut observer,
        &[Scope::User(bob_id)],
        || async {
            app::live::Mine(fetch::<ShortMessages>(&server, &bob, "short_messages", "").await)
        },
        |v: &MessagesView| v.0.received.clone(),
        async {
            let first = run(&mut alice_tab, send("第一条", false)).await;
            run(&mut alice_tab, send("第二条 urgent", true)).await;
            run(&mut bob_tab, read(first)).await;
        },
    )
    .await;
    let mut observer = server.connect(&bob).await;
    holds(
        &mut observer,
        &[Scope::Workspace, Scope::User(bob_id)],
        || async {
            WorkspaceView::from_snapshot(
                &fetch::<WorkspaceSnapshot>(&server, &bob, "workspace", "").await,
            )
        },
        |v: &WorkspaceView| {
            (
                v.notifications.clone(),
                v.notifications_unseen,
                v.notifications_seen,
            )
        },
        async {
            run(&mut alice_tab, send("第三条", false)).await;
        },
    )
    .await;
    // Alice's view: what she sent and who read it.
    let mut observer = server.connect(&alice).await;
    holds(
        &mut observer,
        &[Scope::User(alice_id)],
        || async {
            app::live::Mine(fetch::<ShortMessages>(&server, &alice, "short_messages", "").await)
        },
        |v: &MessagesView| v.0.sent.clone(),
        async {
            let fourth = run(&mut alice_tab, send("第四条", false)).await;
            run(&mut bob_tab, read(fourth)).await;
        },
    )
    .await;
    server.stop().await;
}

/// Notices: a reader's board (published, read, acknowledged, revised, withdrawn), the author's
/// board and readers lists, plus their scopes' events, equal what each fetches after.
#[tokio::test]
async fn notice_boards_and_readers_plus_their_events_equal_what_is_fetched_after() {
    use app::notices::{BoardView, ReadersView};
    use xietong::notices::*;
    use xietong::org::AudienceMember;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let alice_id = server.whoami(&alice).await.id;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    let mut c = server.connect(&carol).await;
    for _ in 0..5 {
        b.next_client_id();
        c.next_client_id();
    }
    let fields = |title: &str, body: &str| NoticeFields {
        kind: xietong::NoticeTypeId(1),
        title: title.into(),
        body: body.into(),
        audience: vec![
            AudienceMember::Person(bob_id),
            AudienceMember::Person(carol_id),
        ],
        valid_from: None,
        valid_until: None,
        pinned_until: Some(xietong_server::store::now_ms() + 3_600_000),
        requires_ack: true,
        urgent: false,
        escalate_after_minutes: None,
    };
    let id_of = |out: CommandOutput| match out {
        CommandOutput::NoticeChanged { notice, .. } => notice,
        other => panic!("{other:?}"),
    };
    let board = |cookie: String| {
        let server = &server;
        async move { BoardView(fetch::<NoticeBoard>(server, &cookie, "notices", "").await) }
    };
    let first = id_of(
        run(
            &mut a,
            Command::SaveNotice(SaveNotice {
                notice: None,
                fields: fields("一", "正文一"),
                revision_note: String::new(),
                attachments: Vec::new(),
                remove_attachments: Vec::new(),
            }),
        )
        .await,
    );
    run(
        &mut a,
        Command::PublishNotice(PublishNotice { notice: first }),
    )
    .await;
    let mut observer = server.connect(&bob).await;
    holds(
        &mut observer,
        &[Scope::Workspace, Scope::User(bob_id)],
        || board(bob.clone()),
        |v: &BoardView| (v.0.notices.clone(), v.0.types.clone()),
        async {
            let second = id_of(
                run(
                    &mut a,
                    Command::SaveNotice(SaveNotice {
                        notice: None,
                        fields: fields("二", "正文二"),
                        revision_note: String::new(),
                        attachments: Vec::new(),
                        remove_attachments: Vec::new(),
                    }),
                )
                .await,
            );
            run(
                &mut a,
                Command::PublishNotice(PublishNotice { notice: second }),
            )
            .await;
            run(&mut b, Command::ReadNotice(ReadNotice { notice: first })).await;
            run(
                &mut b,
                Command::AcknowledgeNotice(AcknowledgeNotice { notice: second }),
            )
            .await;
            run(
                &mut a,
                Command::SaveNotice(SaveNotice {
                    notice: Some(second),
                    fields: fields("二", "正文二（修订）"),
                    revision_note: "修订".into(),
                    attachments: Vec::new(),
                    remove_attachments: Vec::new(),
                }),
            )
            .await;
            run(
                &mut a,
                Command::WithdrawNotice(WithdrawNotice { notice: first }),
            )
            .await;
            run(
                &mut a,
                Command::DefineNoticeType(DefineNoticeType {
                    name: "简报".into(),
                    review_role: None,
                }),
            )
            .await;
        },
    )
    .await;
    // The author: her board and the readers of a notice.
    let third = id_of(
        run(
            &mut a,
            Command::SaveNotice(SaveNotice {
                notice: None,
                fields: fields("三", "正文三"),
                revision_note: String::new(),
                attachments: Vec::new(),
                remove_attachments: Vec::new(),
            }),
        )
        .await,
    );
    run(
        &mut a,
        Command::PublishNotice(PublishNotice { notice: third }),
    )
    .await;
    let mut observer = server.connect(&alice).await;
    holds(
        &mut observer,
        &[Scope::Workspace, Scope::User(alice_id)],
        || board(alice.clone()),
        |v: &BoardView| v.0.notices.clone(),
        async {
            run(&mut b, Command::ReadNotice(ReadNotice { notice: third })).await;
            run(
                &mut a,
                Command::SaveNotice(SaveNotice {
                    notice: Some(third),
                    fields: fields("三", "正文三 改"),
                    revision_note: "改".into(),
                    attachments: Vec::new(),
                    remove_attachments: Vec::new(),
                }),
            )
            .await;
        },
    )
    .await;
    let mut observer = server.connect(&alice).await;
    holds(
        &mut observer,
        &[Scope::User(alice_id)],
        || async {
            app::live::Mine(
                fetch::<NoticeReaders>(
                    &server,
                    &alice,
                    "notice_readers",
                    &format!("notice={}", third.0),
                )
                .await,
            )
        },
        |v: &ReadersView| {
            (
                v.0.read.iter().map(|(u, _)| u.clone()).collect::<Vec<_>>(),
                v.0.not_read.clone(),
                v.0.acknowledged
                    .iter()
                    .map(|(u, _)| u.clone())
                    .collect::<Vec<_>>(),
                v.0.revision,
            )
        },
        async {
            run(
                &mut c,
                Command::AcknowledgeNotice(AcknowledgeNotice { notice: third }),
            )
            .await;
            run(
                &mut b,
                Command::AcknowledgeNotice(AcknowledgeNotice { notice: third }),
            )
            .await;
            run(
                &mut a,
                Command::SaveNotice(SaveNotice {
                    notice: Some(third),
                    fields: fields("三", "正文三 再改"),
                    revision_note: "再改".into(),
                    attachments: Vec::new(),
                    remove_attachments: Vec::new(),
                }),
            )
            .await;
            run(
                &mut b,
                Command::AcknowledgeNotice(AcknowledgeNotice { notice: third }),
            )
            .await;
        },
    )
    .await;
    server.stop().await;
}

/// The news page of a reader and of an editor, and a story's comments, plus their events equal
/// what is fetched after (views are counted without events, so they are left out).
#[tokio::test]
async fn the_news_page_and_comments_plus_their_events_equal_what_is_fetched_after() {
    use app::news::{CommentsView, NewsView};
    use xietong::news::*;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await; // an admin: edits every column
    let bob = server.sign_up("bob").await;
    let alice_id = server.whoami(&alice).await.id;
    let bob_id = server.whoami(&bob).await.id;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    for _ in 0..5 {
        b.next_client_id();
    }
    let company = xietong::NewsColumnId(1);
    let save = |story: Option<xietong::StoryId>, title: &str| {
        Command::SaveStory(SaveStory {
            story,
            fields: StoryFields {
                column: company,
                title: title.into(),
                summary: format!("{title}的摘要"),
                body: format!("**{title}**"),
                publish_at: None,
                pinned: false,
            },
            cover: None,
            remove_cover: false,
            attachments: Vec::new(),
            remove_attachments: Vec::new(),
        })
    };
    let id_of = |out: CommandOutput| match out {
        CommandOutput::StoryChanged { story, .. } => story,
        other => panic!("{other:?}"),
    };
    let page = |cookie: String| {
        let server = &server;
        async move { NewsView(fetch::<NewsBoard>(server, &cookie, "news", "").await) }
    };
    let shown = |v: &NewsView| {
        v.0.stories
            .iter()
            .map(|s| {
                (
                    s.id,
                    s.fields.clone(),
                    s.status,
                    s.likes,
                    s.comments,
                    s.liked,
                    s.html.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let first = id_of(run(&mut a, save(None, "一")).await);
    run(&mut a, Command::PublishStory(PublishStory { story: first })).await;
    let mut observer = server.connect(&bob).await;
    holds(
        &mut observer,
        &[Scope::Workspace, Scope::User(bob_id), Scope::News(company)],
        || page(bob.clone()),
        shown,
        async {
            let second = id_of(run(&mut a, save(None, "二")).await);
            run(
                &mut a,
                Command::PublishStory(PublishStory { story: second }),
            )
            .await;
            run(
                &mut b,
                Command::LikeStory(LikeStory {
                    story: first,
                    like: true,
                }),
            )
            .await;
            run(
                &mut a,
                Command::LikeStory(LikeStory {
                    story: second,
                    like: true,
                }),
            )
            .await;
            run(&mut b, Command::ViewStory(ViewStory { story: second })).await;
            let CommandOutput::StoryCommentChanged { comment } = run(
                &mut b,
                Command::CommentOnStory(CommentOnStory {
                    story: first,
                    text: "好".into(),
                }),
            )
            .await
            else {
                panic!("no comment")
            };
            run(
                &mut a,
                Command::HideStoryComment(HideStoryComment {
                    comment,
                    hidden: true,
                }),
            )
            .await;
            run(&mut a, save(Some(first), "一（改）")).await;
            run(
                &mut a,
                Command::WithdrawStory(WithdrawStory { story: second }),
            )
            .await;
        },
    )
    .await;
    // The editor: drafts in her own scope, published stories in the column's.
    let mut observer = server.connect(&alice).await;
    holds(
        &mut observer,
        &[
            Scope::Workspace,
            Scope::User(alice_id),
            Scope::News(company),
        ],
        || page(alice.clone()),
        shown,
        async {
            let third = id_of(run(&mut a, save(None, "三")).await);
            run(&mut a, save(Some(third), "三（改）")).await;
            run(&mut a, Command::PublishStory(PublishStory { story: third })).await;
            run(
                &mut b,
                Command::LikeStory(LikeStory {
                    story: third,
                    like: true,
                }),
            )
            .await;
            run(
                &mut b,
                Command::LikeStory(LikeStory {
                    story: third,
                    like: false,
                }),
            )
            .await;
            run(
                &mut a,
                Command::WithdrawStory(WithdrawStory { story: first }),
            )
            .await;
        },
    )
    .await;
    // A story's comments, for a reader and for a moderator.
    let fourth = id_of(run(&mut a, save(None, "四")).await);
    run(
        &mut a,
        Command::PublishStory(PublishStory { story: fourth }),
    )
    .await;
    for cookie in [bob.clone(), alice.clone()] {
        let mut observer = server.connect(&cookie).await;
        holds(
            &mut observer,
            &[Scope::News(company)],
            || {
                let server = &server;
                let cookie = cookie.clone();
                async move {
                    CommentsView(
                        fetch::<StoryComments>(
                            server,
                            &cookie,
                            "story_comments",
                            &format!("story={}", fourth.0),
                        )
                        .await,
                    )
                }
            },
            |v: &CommentsView| (v.0.moderator, v.0.comments.clone()),
            async {
                let mut ids = Vec::new();
                for text in ["甲", "乙", "丙"] {
                    if let CommandOutput::StoryCommentChanged { comment } = run(
                        &mut b,
                        Command::CommentOnStory(CommentOnStory {
                            story: fourth,
                            text: text.into(),
                        }),
                    )
                    .await
                    {
                        ids.push(comment);
                    }
                }
                run(
                    &mut a,
                    Command::HideStoryComment(HideStoryComment {
                        comment: ids[0],
                        hidden: true,
                    }),
                )
                .await;
                run(
                    &mut a,
                    Command::HideStoryComment(HideStoryComment {
                        comment: ids[1],
                        hidden: true,
                    }),
                )
                .await;
                run(
                    &mut a,
                    Command::HideStoryComment(HideStoryComment {
                        comment: ids[1],
                        hidden: false,
                    }),
                )
                .await;
            },
        )
        .await;
    }
    server.stop().await;
}

/// The forum page and an open topic plus their events equal what is fetched after (replies
/// that arrived while reading count once shown).
#[tokio::test]
async fn the_forum_and_a_topic_plus_their_events_equal_what_is_fetched_after() {
    use app::forum::{ForumView, TopicView};
    use xietong::forum::*;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await; // an admin: moderates every section
    let bob = server.sign_up("bob").await;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    for _ in 0..5 {
        b.next_client_id();
    }
    let general = xietong::ForumSectionId(1);
    let start = |kind: TopicKind, title: &str| {
        Command::StartTopic(StartTopic {
            section: general,
            kind,
            title: title.into(),
            body: format!("**{title}**"),
            vote: (kind == TopicKind::Vote).then(|| VoteSetup {
                options: vec!["甲".into(), "乙".into()],
                max_choices: 1,
                deadline: None,
            }),
        })
    };
    let topic_of = |out: CommandOutput| match out {
        CommandOutput::TopicChanged { topic } => topic,
        other => panic!("{other:?}"),
    };
    let first = topic_of(run(&mut a, start(TopicKind::Question, "一")).await);
    let mut observer = server.connect(&bob).await;
    holds(
        &mut observer,
        &[Scope::Workspace, Scope::Forum(general)],
        || async { ForumView(fetch::<ForumBoard>(&server, &bob, "forum", "").await) },
        |v: &ForumView| v.0.topics.clone(),
        async {
            let vote = topic_of(run(&mut a, start(TopicKind::Vote, "二")).await);
            run(
                &mut b,
                Command::ReplyToTopic(ReplyToTopic {
                    topic: first,
                    text: "答".into(),
                    quote: None,
                }),
            )
            .await;
            run(
                &mut a,
                Command::CastVote(CastVote {
                    topic: vote,
                    choices: vec![1],
                }),
            )
            .await;
            run(
                &mut a,
                Command::ModerateTopic(ModerateTopic {
                    topic: first,
                    action: Moderation::Pin(true),
                }),
            )
            .await;
            run(
                &mut a,
                Command::ModerateTopic(ModerateTopic {
                    topic: vote,
                    action: Moderation::Lock(true),
                }),
            )
            .await;
        },
    )
    .await;
    let mut observer = server.connect(&bob).await;
    holds(
        &mut observer,
        &[Scope::Forum(general)],
        || async {
            TopicView(
                fetch::<TopicPage>(&server, &bob, "forum_topic", &format!("topic={}", first.0))
                    .await,
            )
        },
        |v: &TopicView| {
            let mut page = v.0.clone();
            page.show_arrived();
            (page.topic, page.replies)
        },
        async {
            let CommandOutput::ReplyPosted { reply } = run(
                &mut a,
                Command::ReplyToTopic(ReplyToTopic {
                    topic: first,
                    text: "再答 @bob".into(),
                    quote: None,
                }),
            )
            .await
            else {
                panic!("no reply")
            };
            run(
                &mut b,
                Command::ReplyToTopic(ReplyToTopic {
                    topic: first,
                    text: "引用".into(),
                    quote: Some(reply),
                }),
            )
            .await;
            run(
                &mut a,
                Command::AcceptAnswer(AcceptAnswer {
                    topic: first,
                    reply: Some(reply),
                }),
            )
            .await;
            run(
                &mut a,
                Command::ModerateTopic(ModerateTopic {
                    topic: first,
                    action: Moderation::Feature(true),
                }),
            )
            .await;
        },
    )
    .await;
    server.stop().await;
}

/// A mailbox — a recipient's and the sender's (with receipts) — plus its events equals the
/// mailbox fetched after.
#[tokio::test]
async fn mailboxes_plus_their_events_equal_what_is_fetched_after() {
    use xietong::mail::*;
    use xietong::org::AudienceMember;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let alice_id = server.whoami(&alice).await.id;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    let mut c = server.connect(&carol).await;
    for _ in 0..5 {
        b.next_client_id();
        c.next_client_id();
    }
    let send = |subject: &str| {
        Command::SaveMail(SaveMail {
            mail: None,
            fields: MailFields {
                to: vec![AudienceMember::Person(bob_id)],
                cc: vec![AudienceMember::Person(carol_id)],
                subject: subject.into(),
                body: format!("**{subject}**"),
                ..Default::default()
            },
            attachments: Vec::new(),
            forward_files: Vec::new(),
            in_reply_to: None,
            send: true,
        })
    };
    let id_of = |out: CommandOutput| match out {
        CommandOutput::MailChanged { mail } => mail,
        other => panic!("{other:?}"),
    };
    let first = id_of(run(&mut a, send("一")).await);
    for (cookie, user) in [(bob.clone(), bob_id), (alice.clone(), alice_id)] {
        let mut observer = server.connect(&cookie).await;
        holds(
            &mut observer,
            &[Scope::User(user)],
            || {
                let server = &server;
                let cookie = cookie.clone();
                async move { app::live::Mine(fetch::<Mailbox>(server, &cookie, "mail", "").await) }
            },
            |v: &app::mail::MailboxView| (v.0.folders.clone(), v.0.mail.clone()),
            async {
                let second = id_of(run(&mut a, send("二")).await);
                run(&mut b, Command::ReadMail(ReadMail { mail: first })).await;
                run(&mut a, Command::RecallMail(RecallMail { mail: second })).await;
                let CommandOutput::MailFolderChanged { folder } = run(
                    &mut b,
                    Command::SaveMailFolder(SaveMailFolder {
                        folder: None,
                        name: "存档".into(),
                    }),
                )
                .await
                else {
                    panic!("no folder")
                };
                run(
                    &mut b,
                    Command::MoveMail(MoveMail {
                        mail: first,
                        folder: Folder::Own(folder),
                    }),
                )
                .await;
                run(
                    &mut b,
                    Command::SaveMailFolder(SaveMailFolder {
                        folder: Some(folder),
                        name: String::new(),
                    }),
                )
                .await;
                run(&mut c, Command::ReadMail(ReadMail { mail: first })).await;
                let draft = id_of(
                    run(
                        &mut a,
                        Command::SaveMail(SaveMail {
                            mail: None,
                            fields: MailFields {
                                subject: "草稿".into(),
                                ..Default::default()
                            },
                            attachments: Vec::new(),
                            forward_files: Vec::new(),
                            in_reply_to: None,
                            send: false,
                        }),
                    )
                    .await,
                );
                run(&mut a, Command::DeleteMail(DeleteMail { mail: draft })).await;
            },
        )
        .await;
    }
    server.stop().await;
}
