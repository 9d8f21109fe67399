//! The notification centre: how every module tells people something. A notification shows
//! in the app at once (the user's "Notifications" list, from their user scope) and, as each
//! person's notification settings say, goes out by email, SMS or a webhook through the
//! server's outbox.

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, MessageId, Seq};
use crate::model::UserRef;

/// The modules that raise notifications, each with its own delivery settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// Mentions, direct messages, replies in followed threads.
    Chat,
    Notices,
    News,
    Forum,
    Mail,
    ShortMessages,
}

impl Module {
    pub const ALL: [Module; 6] = [
        Module::Chat,
        Module::Notices,
        Module::News,
        Module::Forum,
        Module::Mail,
        Module::ShortMessages,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Module::Chat => "chat",
            Module::Notices => "notices",
            Module::News => "news",
            Module::Forum => "forum",
            Module::Mail => "mail",
            Module::ShortMessages => "short_messages",
        }
    }

    pub fn parse(s: &str) -> Option<Module> {
        Module::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A way word reaches a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The "Notifications" list in the app.
    App,
    Email,
    /// Only ever for urgent notifications.
    Sms,
    Webhook,
}

impl Via {
    pub const OUTSIDE: [Via; 3] = [Via::Email, Via::Sms, Via::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Via::App => "app",
            Via::Email => "email",
            Via::Sms => "sms",
            Via::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Via> {
        [Via::App, Via::Email, Via::Sms, Via::Webhook]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One module's ways, as a person set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleDelivery {
    pub module: Module,
    pub app: bool,
    pub email: bool,
    /// SMS for urgent notifications.
    pub sms: bool,
    pub webhook: bool,
}

impl ModuleDelivery {
    /// What a person gets until they change it: everything in the app, email and urgent SMS
    /// (to the address and mobile number in the address book), the webhook once they set one.
    pub fn default_for(module: Module) -> ModuleDelivery {
        ModuleDelivery {
            module,
            app: true,
            email: true,
            sms: true,
            webhook: true,
        }
    }

    pub fn allows(&self, via: Via) -> bool {
        match via {
            Via::App => self.app,
            Via::Email => self.email,
            Via::Sms => self.sms,
            Via::Webhook => self.webhook,
        }
    }
}

/// The body a webhook gets: the robot formats of the chat apps people already use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// `{"title", "text", "module", "url", …}`, signed in `X-Xietong-Signature`.
    #[default]
    Generic,
    /// A DingTalk group robot (钉钉机器人): `msgtype: text`, signed in the URL when it has a secret.
    DingTalk,
    /// A WeCom group robot (企业微信机器人): `msgtype: text` (its key is in the URL).
    WeCom,
    /// A Feishu / Lark custom bot (飞书机器人): `msg_type: text`, signed in the body.
    Feishu,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// `http://` or `https://`.
    pub url: String,
    #[serde(default)]
    pub kind: WebhookKind,
    /// Signs each request (HMAC-SHA256); empty: unsigned.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret: String,
}

/// Hours when nothing but urgent word goes out by email, SMS or webhook: it waits until they
/// end. `from` and `until` are minutes after midnight in the person's time zone (`from >
/// until` spans midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub from: u16,
    pub until: u16,
    /// The person's offset from UTC in minutes (China: 480), taken from their browser.
    pub utc_offset_minutes: i16,
}

impl QuietHours {
    /// When quiet hours that hold at `now_ms` end (`None`: they do not hold).
    pub fn end_after(&self, now_ms: i64) -> Option<i64> {
        const DAY: i64 = 24 * 60;
        let local_ms = now_ms + i64::from(self.utc_offset_minutes) * 60_000;
        let minute = (local_ms.div_euclid(60_000)).rem_euclid(DAY);
        let (from, until) = (i64::from(self.from), i64::from(self.until));
        let quiet = if from <= until {
            (from..until).contains(&minute)
        } else {
            minute >= from || minute < until
        };
        if !quiet {
            return None;
        }
        let wait = (until - minute).rem_euclid(DAY);
        let start_of_minute = now_ms - local_ms.rem_euclid(60_000);
        Some(start_of_minute + wait * 60_000)
    }
}

/// A person's notification settings ("Notification settings"). Modules left out get
/// [`ModuleDelivery::default_for`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<ModuleDelivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
}

impl NotificationSettings {
    pub fn for_module(&self, module: Module) -> ModuleDelivery {
        self.modules
            .iter()
            .find(|m| m.module == module)
            .copied()
            .unwrap_or_else(|| ModuleDelivery::default_for(module))
    }

    pub fn validate(&self) -> Result<(), crate::ValidationError> {
        use crate::ValidationError as Bad;
        let mut seen = std::collections::BTreeSet::new();
        if !self.modules.iter().all(|m| seen.insert(m.module)) {
            return Err(Bad::ModuleListedTwice);
        }
        if let Some(q) = &self.quiet_hours {
            if q.from >= 24 * 60
                || q.until >= 24 * 60
                || q.from == q.until
                || !(-14 * 60..=14 * 60).contains(&q.utc_offset_minutes)
            {
                return Err(Bad::QuietHours);
            }
        }
        if let Some(w) = &self.webhook {
            let lower = w.url.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://"))
                || w.url.len() > MAX_WEBHOOK_URL_BYTES
                || w.url.chars().any(char::is_whitespace)
            {
                return Err(Bad::WebhookUrl);
            }
            if w.secret.len() > 200 {
                return Err(Bad::WebhookSecret);
            }
        }
        Ok(())
    }
}

pub const MAX_WEBHOOK_URL_BYTES: usize = 2000;

/// My notification settings as the settings page loads them (`/api/notification_settings`),
/// with my user scope's head and the ways out this deployment has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyNotificationSettings {
    pub head: Seq,
    pub settings: NotificationSettings,
    /// Email and SMS only where the server has an SMTP server or SMS gateway.
    pub outlets: Vec<Via>,
}

/// Command: replace my notification settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveNotificationSettings {
    pub settings: NotificationSettings,
}

/// What an office module's notification says. The server writes it only to people who may
/// read the thing it is about, and its title is that thing's title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub module: Module,
    /// The thing's id in its module (a notice, a short message, …).
    pub item: i64,
    pub title: String,
    /// The start of its text, plain.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Who caused it (`None`: the system, a reminder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<UserRef>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// Where following it leads, a path of this site.
    pub href: String,
}

/// A note's text holds at most this many characters.
pub const NOTE_TEXT_CHARS: usize = 200;

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum About {
    /// A chat message (mention, direct message, reply in a followed thread).
    Message {
        channel: ChannelId,
        message: MessageId,
        notice: crate::chat::Notice,
    },
    /// Something in an office module.
    Note(Note),
}

/// One entry of the "Notifications" list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The event's sequence number in the user's scope (its place in the list).
    pub id: Seq,
    /// Unix milliseconds.
    pub at: i64,
    pub about: About,
}

impl Notification {
    /// Where following it leads.
    pub fn href(&self) -> String {
        match &self.about {
            About::Message {
                channel,
                message,
                notice,
            } => format!("/c/{}?m={}", channel, notice.thread.unwrap_or(*message)),
            About::Note(note) => note.href.clone(),
        }
    }

    /// Who it comes from, if anyone.
    pub fn from(&self) -> Option<&UserRef> {
        match &self.about {
            About::Message { notice, .. } => Some(&notice.author),
            About::Note(note) => note.from.as_ref(),
        }
    }

    /// Its text, for a desktop notification.
    pub fn text(&self) -> &str {
        match &self.about {
            About::Message { notice, .. } => &notice.excerpt,
            About::Note(note) if note.text.is_empty() => &note.title,
            About::Note(note) => &note.text,
        }
    }
}

/// How far a delivery by email, SMS or webhook has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its time (quiet hours, an escalation, a retry after a failure).
    Pending,
    /// A node is handing it over now.
    Sending,
    /// Handed over (the SMTP server, gateway or webhook accepted it).
    Sent,
    /// Given up after every retry, or impossible (no address).
    Failed,
    /// Not needed any more (the notice was read before the escalation was due).
    Cancelled,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Sending,
            DeliveryState::Sent,
            DeliveryState::Failed,
            DeliveryState::Cancelled,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One row of the delivery log an admin reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    /// Whom it is for; for an email to an outside address, whose it is (its sender).
    pub to: UserRef,
    /// The outside address it goes to, if not `to`'s own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub via: Via,
    pub module: Module,
    pub title: String,
    pub state: DeliveryState,
    pub attempts: u32,
    /// When it is (or was) due, Unix milliseconds.
    pub due_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// The delivery log shows this many rows, newest first.
pub const DELIVERY_LOG_ROWS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_notification_reads_on_its_own_as_its_feature_s_event_does() {
        use crate::wire::{EventContent, FeatureEvent, Tagged};
        let note = Note {
            module: Module::Notices,
            item: 7,
            title: "停电通知".into(),
            text: "周六 9:00–12:00".into(),
            from: None,
            urgent: true,
            href: "/notices/7".into(),
        };
        let body: crate::EventBody = NotifyEvent::Notified { note: note.clone() }.into();
        let tagged = Tagged::encode(&body).unwrap();
        assert!(NotifyEvent::kinds().contains(&Notified::KIND));
        assert_eq!(
            tagged.content::<Notified>().unwrap(),
            Some(Notified { note })
        );
        let settings: crate::EventBody = NotifyEvent::NotificationSettingsChanged {
            settings: NotificationSettings::default(),
        }
        .into();
        let tagged = Tagged::encode(&settings).unwrap();
        assert_eq!(tagged.content::<Notified>().unwrap(), None);
    }

    #[test]
    fn quiet_hours_end_in_the_persons_own_time() {
        // 22:00–07:00 in China (UTC+8).
        let quiet = QuietHours {
            from: 22 * 60,
            until: 7 * 60,
            utc_offset_minutes: 480,
        };
        // 15:30 UTC is 23:30 in Beijing: quiet until 07:00 Beijing = 23:00 UTC.
        let now = 15 * HOUR + 30 * 60_000;
        assert_eq!(quiet.end_after(now), Some(23 * HOUR));
        // 02:00 UTC is 10:00 in Beijing: not quiet.
        assert_eq!(quiet.end_after(2 * HOUR), None);
        // Daytime quiet hours, 12:00–13:30 local, at 12:10 local (04:10 UTC).
        let lunch = QuietHours {
            from: 12 * 60,
            until: 13 * 60 + 30,
            utc_offset_minutes: 480,
        };
        assert_eq!(
            lunch.end_after(4 * HOUR + 10 * 60_000),
            Some(5 * HOUR + 30 * 60_000)
        );
        assert_eq!(lunch.end_after(5 * HOUR + 30 * 60_000), None);
    }

    #[test]
    fn settings_are_checked() {
        let mut s = NotificationSettings::default();
        assert!(s.validate().is_ok());
        assert!(s.for_module(Module::Notices).email);
        s.webhook = Some(Webhook {
            url: "javascript:alert(1)".into(),
            kind: WebhookKind::Generic,
            secret: String::new(),
        });
        assert!(s.validate().is_err());
        s.webhook = None;
        s.modules = vec![
            ModuleDelivery::default_for(Module::Mail),
            ModuleDelivery::default_for(Module::Mail),
        ];
        assert!(s.validate().is_err());
    }
}

/// [`NotifyEvent::Notified`] on its own, for a reader that needs only notifications (the
/// browser's workspace view): decoding it leaves the settings' decoders to the settings page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Notified {
    pub note: Note,
}

impl crate::wire::EventContent for Notified {
    const KIND: &'static str = "notified";
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    /// In a user scope: a notification from an office module (its "Notifications" list
    /// entry is this event's number).
    Notified { note: crate::notify::Note },
    /// In a user scope: the user's notification settings changed.
    NotificationSettingsChanged {
        settings: crate::notify::NotificationSettings,
    },
}
