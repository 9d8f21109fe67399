//! The interface's words, in each language it speaks (English, 简体中文).
//!
//! A page renders in one language from start to end: the server picks it (the user's setting,
//! else the browser's `Accept-Language`) and writes it into `<html lang>`, and the browser reads
//! it back from there when it hydrates, so both render the same words. Changing the setting
//! reloads the page (every tab of the user follows through `settings_changed`).
//!
//! The words are plain `&'static str` fields of one table per language, not a lookup by key:
//! a missing translation is a compile error, and the WASM bundle carries tables of pointers
//! and no lookup code. [`Texts`] (from [`t`]) holds the words of the first screen: the frame,
//! chat, errors. [`OfficeTexts`] (from [`office`]) holds the office modules' words and reads
//! as `Texts` too; only their screens, which load on demand, refer to it, so its two tables
//! and their strings load with them, not with the first screen.

use leptos::prelude::*;
use xietong::settings::Language;
use xietong::ValidationError;

mod office;
pub use office::OfficeTexts;

/// Every word and phrase of the first screen (and of the office modules' screens, through
/// [`OfficeTexts`]). Fields with arguments are functions.
pub struct Texts {
    pub language: Language,
    // The frame.
    pub menu: &'static str,
    pub settings: &'static str,
    pub log_out: &'static str,
    pub online: &'static str,
    pub connecting: &'static str,
    pub connected: &'static str,
    pub reconnecting: &'static str,
    pub outdated: &'static str,
    pub page_failed: &'static str,
    pub part_failed: &'static str,
    pub reload: &'static str,
    pub loading: &'static str,
    pub page_not_found: &'static str,
    pub close: &'static str,
    pub cancel: &'static str,
    pub save: &'static str,
    // Logging in.
    pub log_in: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub new_here: &'static str,
    pub create_account: &'static str,
    pub sign_up: &'static str,
    pub have_account: &'static str,
    // Channels and direct messages.
    pub channels: &'static str,
    pub new_channel: &'static str,
    pub channel_name: &'static str,
    pub private: &'static str,
    pub create: &'static str,
    pub direct_messages: &'static str,
    pub new_message: &'static str,
    pub start: &'static str,
    pub unread: fn(u32) -> String,
    pub mentions: fn(u32) -> String,
    pub messages: &'static str,
    pub load_older: &'static str,
    pub load_older_replies: &'static str,
    pub new_line: &'static str,
    pub you: &'static str,
    pub sending: &'static str,
    pub not_sent: &'static str,
    pub dismiss: &'static str,
    pub message: &'static str,
    pub message_to: fn(&str) -> String,
    pub send: &'static str,
    pub mention_suggestions: &'static str,
    pub seen: &'static str,
    pub seen_by: fn(usize) -> String,
    pub typing_one: fn(&str) -> String,
    pub typing_two: fn(&str, &str) -> String,
    pub typing_many: &'static str,
    // Messages.
    pub replies: fn(u32) -> String,
    pub mentions_you: &'static str,
    pub edited: &'static str,
    pub deleted: &'static str,
    pub reply_in_thread: &'static str,
    pub add_reaction: &'static str,
    pub reactions: &'static str,
    pub pin: &'static str,
    pub unpin: &'static str,
    pub edit: &'static str,
    pub delete: &'static str,
    pub delete_message: &'static str,
    pub delete_confirm: &'static str,
    pub edit_message: &'static str,
    pub thread: &'static str,
    pub close_thread: &'static str,
    pub thread_messages: &'static str,
    pub reply: &'static str,
    pub reply_placeholder: &'static str,
    // Channel header.
    pub pinned: &'static str,
    pub members: &'static str,
    pub leave: &'static str,
    pub pinned_messages: &'static str,
    pub nothing_pinned: &'static str,
    pub remove: &'static str,
    pub remove_person: fn(&str) -> String,
    pub add_member: &'static str,
    pub add: &'static str,
    pub find_people: &'static str,
    pub people: &'static str,
    // Notifications.
    pub notifications: &'static str,
    pub no_notifications: &'static str,
    pub enable_desktop_notifications: &'static str,
    pub mentioned_you: fn(&str, &str) -> String,
    pub replied_in_thread: fn(&str, &str) -> String,
    // Search.
    pub search: &'static str,
    pub search_placeholder: &'static str,
    pub searching: &'static str,
    pub no_messages_found: &'static str,
    pub search_results: &'static str,
    pub files_found: &'static str,
    pub items_found: &'static str,
    // Admin.
    pub invite_people: &'static str,
    pub invite_hint: &'static str,
    pub invitation_link: &'static str,
    pub workspace_settings: &'static str,
    pub whole_minutes: fn(u32) -> String,
    pub edit_limit: &'static str,
    pub delete_limit: &'static str,
    pub no_limit: &'static str,
    pub limits_hint: &'static str,
    // My settings.
    pub send_read_receipts: &'static str,
    pub read_receipts_hint: &'static str,
    pub interface_language: &'static str,
    pub follow_browser: &'static str,
    // Words of the office modules that the frame and chat show too.
    pub remove_named: fn(&str) -> String,
    pub uploads: &'static str,
    pub uploading_named: fn(&str) -> String,
    pub cancel_upload_named: fn(&str) -> String,
    pub download: &'static str,
    pub news_story: &'static str,
    pub story_withdrawn: &'static str,
    pub admin: &'static str,
    pub files: &'static str,
    pub attach: &'static str,
    pub wait_for_uploads: &'static str,
    pub office: &'static str,
    pub hide_mobile: &'static str,
    pub address_book: &'static str,
    pub urgent_mark: &'static str,
    pub chat: &'static str,
    pub notices: &'static str,
    pub news: &'static str,
    pub forum: &'static str,
    pub mail: &'static str,
    pub short_messages: &'static str,
    pub notification_settings: &'static str,
    // Errors with no words from the server.
    pub bad_credentials: &'static str,
    pub username_taken: &'static str,
    pub please_log_in: &'static str,
    pub rate_limited: &'static str,
    pub server_fault: &'static str,
    pub unreachable: fn(&str) -> String,
    pub invalid: fn(&ValidationError) -> String,
}

pub static ENGLISH: Texts = Texts {
    language: Language::English,
    menu: "Menu",
    settings: "Settings",
    log_out: "Log out",
    online: "Online",
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Reconnecting…",
    outdated: "Xietong was updated: please reload the page",
    page_failed: "Something went wrong in this page: please reload it",
    part_failed:
        "Part of this page could not load (Xietong may have been updated): please reload it",
    reload: "Reload",
    loading: "Loading…",
    page_not_found: "Page not found.",
    close: "Close",
    cancel: "Cancel",
    save: "Save",
    log_in: "Log in",
    username: "Username",
    password: "Password",
    new_here: "New here? ",
    create_account: "Create account",
    sign_up: "Sign up",
    have_account: "Have an account? ",
    channels: "Channels",
    new_channel: "New channel",
    channel_name: "Channel name",
    private: "Private",
    create: "Create",
    direct_messages: "Direct messages",
    new_message: "New message",
    start: "Start",
    unread: |n| format!(", {n} unread"),
    mentions: |n| match n {
        1 => ", 1 mention".to_owned(),
        n => format!(", {n} mentions"),
    },
    messages: "Messages",
    load_older: "Load older messages",
    load_older_replies: "Load older replies",
    new_line: "New",
    you: "You",
    sending: "Sending…",
    not_sent: "Not sent",
    dismiss: "Dismiss",
    message: "Message",
    message_to: |name| format!("Message {name}"),
    send: "Send",
    mention_suggestions: "Mention suggestions",
    seen: "Seen",
    seen_by: |n| format!("Seen by {n}"),
    typing_one: |a| format!("{a} is typing…"),
    typing_two: |a, b| format!("{a} and {b} are typing…"),
    typing_many: "Several people are typing…",
    replies: |n| match n {
        1 => "1 reply".to_owned(),
        n => format!("{n} replies"),
    },
    mentions_you: "Mentions you",
    edited: "(edited)",
    deleted: "This message was deleted",
    reply_in_thread: "Reply in thread",
    add_reaction: "Add reaction",
    reactions: "Reactions",
    pin: "Pin",
    unpin: "Unpin",
    edit: "Edit",
    delete: "Delete",
    delete_message: "Delete message",
    delete_confirm: "Delete this message for everyone? This cannot be undone.",
    edit_message: "Edit message",
    thread: "Thread",
    close_thread: "Close thread",
    thread_messages: "Thread messages",
    reply: "Reply",
    reply_placeholder: "Reply…",
    pinned: "Pinned",
    members: "Members",
    leave: "Leave",
    pinned_messages: "Pinned messages",
    nothing_pinned: "Nothing is pinned yet.",
    remove: "Remove",
    remove_person: |name| format!("Remove {name}"),
    add_member: "Add member",
    add: "Add",
    find_people: "Find people",
    people: "People",
    notifications: "Notifications",
    no_notifications:
        "Nothing yet: mentions, direct messages and replies to your threads show here.",
    enable_desktop_notifications: "Enable desktop notifications",
    mentioned_you: |who, text| format!("{who} mentioned you: {text}"),
    replied_in_thread: |who, text| format!("{who} replied in a thread: {text}"),
    search: "Search",
    search_placeholder: "Search  (from:name  in:channel)",
    searching: "Searching…",
    no_messages_found: "No messages found",
    search_results: "Search results",
    files_found: "Files found",
    items_found: "Mail and notices found",
    invite_people: "Invite people",
    invite_hint: "Anyone with this link can create one account in the next 7 days.",
    invitation_link: "Invitation link",
    workspace_settings: "Workspace settings",
    whole_minutes: |max| format!("Enter whole minutes from 0 to {max}, or leave it empty"),
    edit_limit: "Edit time limit (minutes)",
    delete_limit: "Delete time limit (minutes)",
    no_limit: "No limit",
    limits_hint: "How long after posting people may edit or delete their own messages. \
                  Empty: no limit. Admins may always delete any message.",
    send_read_receipts: "Send read receipts",
    read_receipts_hint: "When on, the people in a direct message see “Seen” once you have read it.",
    interface_language: "Language",
    follow_browser: "Same as the browser",
    bad_credentials: "Wrong username or password",
    username_taken: "That username is taken",
    please_log_in: "Please log in",
    rate_limited: "Too many attempts; try again in a few minutes",
    server_fault: "Something went wrong on the server; please try again",
    unreachable: |why| format!("Could not reach the server: {why}"),
    // The protocol crate's own wording is English.
    invalid: |rule| rule.to_string(),
    admin: "Admin",
    files: "Files",
    attach: "Attach",
    wait_for_uploads: "Wait until the files have finished uploading.",
    office: "Office",
    hide_mobile: "Hide my mobile number from others",
    address_book: "Address book",
    urgent_mark: "URGENT · ",
    chat: "Chat",
    notices: "Notices",
    news: "News",
    forum: "Forum",
    mail: "Mail",
    short_messages: "Short messages",
    notification_settings: "Notification settings",
    download: "Download",
    news_story: "News",
    story_withdrawn: "This story was withdrawn.",
    remove_named: |name| format!("Remove {name}"),
    uploads: "Uploads",
    uploading_named: |name| format!("Uploading {name}"),
    cancel_upload_named: |name| format!("Cancel upload of {name}"),
};

pub static CHINESE: Texts = Texts {
    language: Language::Chinese,
    menu: "菜单",
    settings: "设置",
    log_out: "退出登录",
    online: "在线",
    connecting: "正在连接…",
    connected: "已连接",
    reconnecting: "正在重新连接…",
    outdated: "协同已更新，请刷新页面",
    page_failed: "页面出错了，请刷新",
    part_failed: "页面的一部分无法加载（协同可能已更新），请刷新",
    reload: "刷新",
    loading: "加载中…",
    page_not_found: "页面不存在。",
    close: "关闭",
    cancel: "取消",
    save: "保存",
    log_in: "登录",
    username: "用户名",
    password: "密码",
    new_here: "还没有账号？",
    create_account: "创建账号",
    sign_up: "注册",
    have_account: "已有账号？",
    channels: "频道",
    new_channel: "新建频道",
    channel_name: "频道名称",
    private: "私有",
    create: "创建",
    direct_messages: "私信",
    new_message: "发起私信",
    start: "开始",
    unread: |n| format!("，{n} 条未读"),
    mentions: |n| format!("，{n} 次提及"),
    messages: "消息",
    load_older: "加载更早的消息",
    load_older_replies: "加载更早的回复",
    new_line: "新消息",
    you: "我",
    sending: "发送中…",
    not_sent: "未发送",
    dismiss: "忽略",
    message: "消息",
    message_to: |name| format!("发消息给 {name}"),
    send: "发送",
    mention_suggestions: "提及建议",
    seen: "已读",
    seen_by: |n| format!("{n} 人已读"),
    typing_one: |a| format!("{a} 正在输入…"),
    typing_two: |a, b| format!("{a} 和 {b} 正在输入…"),
    typing_many: "多人正在输入…",
    replies: |n| format!("{n} 条回复"),
    mentions_you: "提到了你",
    edited: "（已编辑）",
    deleted: "此消息已删除",
    reply_in_thread: "在话题中回复",
    add_reaction: "添加表情回应",
    reactions: "表情回应",
    pin: "固定",
    unpin: "取消固定",
    edit: "编辑",
    delete: "删除",
    delete_message: "删除消息",
    delete_confirm: "为所有人删除这条消息？此操作无法撤销。",
    edit_message: "编辑消息",
    thread: "话题",
    close_thread: "关闭话题",
    thread_messages: "话题消息",
    reply: "回复",
    reply_placeholder: "回复…",
    pinned: "已固定",
    members: "成员",
    leave: "退出",
    pinned_messages: "已固定的消息",
    nothing_pinned: "还没有固定的消息。",
    remove: "移除",
    remove_person: |name| format!("移除 {name}"),
    add_member: "添加成员",
    add: "添加",
    find_people: "查找人员",
    people: "人员",
    notifications: "通知",
    no_notifications: "暂无通知：提到你的消息、私信和你参与的话题的回复会显示在这里。",
    enable_desktop_notifications: "开启桌面通知",
    mentioned_you: |who, text| format!("{who} 提到了你：{text}"),
    replied_in_thread: |who, text| format!("{who} 在话题中回复：{text}"),
    search: "搜索",
    search_placeholder: "搜索（from:用户名  in:频道）",
    searching: "搜索中…",
    no_messages_found: "没有找到消息",
    search_results: "搜索结果",
    files_found: "找到的文件",
    items_found: "找到的邮件和通知",
    invite_people: "邀请成员",
    invite_hint: "任何拿到此链接的人可在 7 天内注册一个账号。",
    invitation_link: "邀请链接",
    workspace_settings: "工作区设置",
    whole_minutes: |max| format!("请输入 0 到 {max} 之间的整数分钟，或留空"),
    edit_limit: "编辑时限（分钟）",
    delete_limit: "删除时限（分钟）",
    no_limit: "不限",
    limits_hint:
        "发送后多长时间内可以编辑或删除自己的消息。留空表示不限。管理员随时可以删除任何消息。",
    send_read_receipts: "发送已读回执",
    read_receipts_hint: "开启后，私信中的对方会在你读过后看到“已读”。",
    interface_language: "语言",
    follow_browser: "跟随浏览器",
    bad_credentials: "用户名或密码错误",
    username_taken: "该用户名已被占用",
    please_log_in: "请先登录",
    rate_limited: "尝试次数过多，请几分钟后再试",
    server_fault: "服务器出错了，请重试",
    unreachable: |why| format!("无法连接服务器：{why}"),
    invalid: |rule| {
        use xietong::limits::*;
        match rule {
            ValidationError::EmptyMessage => "消息不能为空".to_owned(),
            ValidationError::ModuleListedTwice => "通知设置中同一模块出现了两次".to_owned(),
            ValidationError::QuietHours => "免打扰时段须有开始和不同的结束时间".to_owned(),
            ValidationError::WebhookUrl => {
                "Webhook 须为 http:// 或 https:// 地址，且不超过 2000 个字符".to_owned()
            }
            ValidationError::WebhookSecret => "签名密钥不能超过 200 个字符".to_owned(),
            ValidationError::NoticeText => {
                format!("通知须有 1 到 {MAX_NOTICE_TITLE_CHARS} 字的标题，正文不超过 {MAX_NOTICE_BODY_CHARS} 字")
            }
            ValidationError::NoticeDates => {
                "通知的时间顺序不对（先生效后失效，置顶不晚于失效；提醒不超过 7 天）".to_owned()
            }
            ValidationError::RevisionNote => "修订已发布的通知须写明修改说明（1 到 500 字）".to_owned(),
            ValidationError::StoryText => format!(
                "新闻须有 1 到 {MAX_STORY_TITLE_CHARS} 字的标题，摘要不超过 {MAX_STORY_SUMMARY_CHARS} 字，正文不超过 {MAX_STORY_BODY_CHARS} 字"
            ),
            ValidationError::PublishAt => "定时发布时间须在 2000 年到 2200 年之间".to_owned(),
            ValidationError::CommentText => format!("评论须为 1 到 {MAX_COMMENT_CHARS} 个字符"),
            ValidationError::TopicText => format!(
                "帖子须有 1 到 {MAX_STORY_TITLE_CHARS} 字的标题，正文不超过 {MAX_STORY_BODY_CHARS} 字"
            ),
            ValidationError::VoteOptions => {
                "投票须有 2 到 20 个不同的选项（每个 1 到 100 字），最多可选数在 1 到选项数之间".to_owned()
            }
            ValidationError::ReplyText => "回复须为 1 到 10000 个字符".to_owned(),
            ValidationError::MailText => format!(
                "邮件须有 1 到 {MAX_STORY_TITLE_CHARS} 字的主题，正文不超过 {MAX_STORY_BODY_CHARS} 字，附件不超过 {MAX_ATTACHMENTS} 个"
            ),
            ValidationError::OutsideAddress => format!(
                "外部地址须为普通邮箱地址（name@example.com），最多 {} 个",
                xietong::mail::MAX_OUTSIDE_ADDRESSES
            ),
            ValidationError::ShortMessageText => {
                format!("短信须为 1 到 {MAX_SHORT_MESSAGE_CHARS} 个字符")
            }
            ValidationError::MessageTooLong { chars } => {
                format!("消息太长（{chars} 字，上限 {MAX_MESSAGE_CHARS} 字）")
            }
            ValidationError::EmptyChannelName => "频道名称不能为空".to_owned(),
            ValidationError::ChannelNameTooLong => {
                format!("频道名称太长（上限 {MAX_CHANNEL_NAME_CHARS} 字）")
            }
            ValidationError::ChannelNameBadCharacter => {
                "频道名称不能包含控制字符、“#”或“/”".to_owned()
            }
            ValidationError::UsernameLength => {
                format!("用户名须为 {MIN_USERNAME_CHARS} 到 {MAX_USERNAME_CHARS} 个字符")
            }
            ValidationError::UsernameBadCharacter => {
                "用户名只能包含字母、数字、“.”、“-”和“_”".to_owned()
            }
            ValidationError::PasswordLength => {
                format!("密码须为 {MIN_PASSWORD_CHARS} 到 {MAX_PASSWORD_CHARS} 个字符")
            }
            ValidationError::NotAnEmoji => "表情回应只能是一个表情符号".to_owned(),
            ValidationError::EmptyDepartmentName => "部门名称不能为空".to_owned(),
            ValidationError::DepartmentNameTooLong => {
                format!("部门名称太长（上限 {MAX_DEPARTMENT_NAME_CHARS} 字）")
            }
            ValidationError::DepartmentNameBadCharacter => {
                "部门名称不能包含控制字符或“/”".to_owned()
            }
            ValidationError::EmptyRoleName => "角色名称不能为空".to_owned(),
            ValidationError::RoleNameTooLong => {
                format!("角色名称太长（上限 {MAX_DEPARTMENT_NAME_CHARS} 字）")
            }
            ValidationError::RoleNameBadCharacter => "角色名称不能包含控制字符".to_owned(),
            ValidationError::BadMobile => "手机号应为 3 到 20 位数字，可以“+”开头".to_owned(),
            ValidationError::BadEmail => "这不是有效的电子邮件地址".to_owned(),
            ValidationError::FileName => {
                "文件名须为 1 至 255 字节，不能含控制字符或 / \\ : * ? \" < > |".to_owned()
            }
            ValidationError::Audience => {
                format!("范围须为 1 至 {MAX_AUDIENCE_MEMBERS} 项：所有人、人员、部门或角色")
            }
            ValidationError::ContactFields => format!(
                "联系人须有姓名（最多 {MAX_PROFILE_FIELD_CHARS} 字），备注最多 {MAX_CONTACT_NOTE_CHARS} 字"
            ),
            ValidationError::LinkPassword => {
                format!("链接密码须为 4 至 {MAX_PASSWORD_CHARS} 个字符")
            }
            ValidationError::BadProfileField => {
                format!("姓名和职务最多 {MAX_PROFILE_FIELD_CHARS} 字，且不能包含控制字符")
            }
        }
    },
    admin: "管理",
    files: "文件柜",
    attach: "附件",
    wait_for_uploads: "请等待文件上传完成。",
    office: "办公",
    hide_mobile: "不向他人显示我的手机号",
    address_book: "通讯录",
    urgent_mark: "【紧急】",
    chat: "聊天",
    notices: "通知公告",
    news: "新闻",
    forum: "论坛",
    mail: "内部邮件",
    short_messages: "短信",
    notification_settings: "通知设置",
    download: "下载",
    news_story: "新闻",
    story_withdrawn: "该新闻已撤回。",
    remove_named: |name| format!("删除 {name}"),
    uploads: "上传列表",
    uploading_named: |name| format!("正在上传 {name}"),
    cancel_upload_named: |name| format!("取消上传 {name}"),
};

impl Texts {
    pub fn of(language: Language) -> &'static Texts {
        match language {
            Language::English => &ENGLISH,
            Language::Chinese => &CHINESE,
        }
    }
}

/// The page's language, provided once at the root of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLanguage(pub Language);

/// Provides the page's language: on the server the one the session middleware chose for this
/// request, in the browser the one the server wrote into `<html lang>`.
pub fn provide_page_language() -> Language {
    let language = page_language();
    provide_context(PageLanguage(language));
    language
}

fn page_language() -> Language {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Language>().copied())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        written_language(&document())
    }
}

/// The language the server wrote into this document's `<html lang>` (English if none).
#[cfg(not(feature = "ssr"))]
pub fn written_language(document: &leptos::web_sys::Document) -> Language {
    document
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|tag| Language::from_tag(&tag))
        .unwrap_or_default()
}

/// The office modules' words in this page's language (and, through them, [`t`]'s).
pub fn office() -> &'static OfficeTexts {
    OfficeTexts::of(t().language)
}

/// This page's words. Call it while building a component (it reads the context) and keep the
/// reference for the closures inside.
pub fn t() -> &'static Texts {
    Texts::of(
        use_context::<PageLanguage>()
            .map(|p| p.0)
            .unwrap_or_default(),
    )
}

/// The language the browser asks for (`navigator.languages`), for following it.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn browser_language() -> Language {
    let languages = window().navigator().languages();
    let list: Vec<String> = languages.iter().filter_map(|l| l.as_string()).collect();
    Language::preferred(&list.join(","))
}
