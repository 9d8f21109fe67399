//! The ways out: email over SMTP (lettre), a webhook (a JSON POST signed with HMAC-SHA256, in
//! the generic form or as a DingTalk, WeCom or Feishu robot expects), and an SMS gateway over
//! HTTP. Every text is built from a template that treats what users wrote as text: escaped in
//! HTML, JSON-encoded in JSON, percent-encoded in URLs.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Sha256;
use xietong::notify::{Module, Via, Webhook, WebhookKind};
use xietong::settings::Language;
use xietong::UserRef;

use crate::store::{Store, StoreError};

/// How long one hand-over may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// One outbox row being delivered.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub to: UserRef,
    pub email: String,
    /// An outside address to email instead of `to` (mail leaving the organisation).
    pub outside: Option<String>,
    pub mobile: String,
    pub via: Via,
    pub module: Module,
    pub title: String,
    pub text: String,
    pub href: String,
    pub sender: String,
    pub urgent: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No address to send to: retrying cannot help.
    #[error("{0}")]
    NoAddress(&'static str),
    /// Refused for good (a webhook to a private address, a malformed address).
    #[error("{0}")]
    Refused(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("HTTP: {0}")]
    Http(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::NoAddress(_) | SendError::Refused(_))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("--smtp-url is not a usable SMTP URL: {0}")]
    SmtpUrl(String),
    #[error("--smtp-from is not a mailbox (\"Name <address>\"): {0}")]
    From(String),
    #[error("--sms-url must be an http:// or https:// URL template")]
    SmsUrl,
    #[error("--mail-outside sends mail over SMTP: it needs --smtp-url")]
    MailOutsideWithoutSmtp,
    #[error("cannot make an HTTP client: {0}")]
    Http(String),
}

/// What a node can send, and how.
pub struct Sender {
    mailer: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    http: reqwest::Client,
    sms: Option<(String, Option<String>)>,
    private_webhooks: bool,
    /// The site's address, for links.
    site: String,
}

impl Sender {
    pub fn new(config: &crate::config::Config, site: String) -> Result<Sender, SetupError> {
        if config.mail_outside && config.smtp_url.is_none() {
            return Err(SetupError::MailOutsideWithoutSmtp);
        }
        let mailer = match &config.smtp_url {
            None => None,
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    // The URL may hold a password: say what is wrong without it.
                    .map_err(|e| SetupError::SmtpUrl(e.to_string().replace(url.as_str(), "…")))?
                    .timeout(Some(SEND_TIMEOUT))
                    .build();
                let from: Mailbox = config
                    .smtp_from
                    .parse()
                    .map_err(|e: lettre::address::AddressError| SetupError::From(e.to_string()))?;
                Some((transport, from))
            }
        };
        let sms = match &config.sms_url {
            None => None,
            Some(url) => {
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                    return Err(SetupError::SmsUrl);
                }
                Some((url.clone(), config.sms_body.clone()))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            // A proxy would resolve webhook hosts itself, past the address check.
            .no_proxy()
            // A webhook may not bounce the request somewhere it could not go itself.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        Ok(Sender {
            mailer,
            http,
            sms,
            private_webhooks: config.webhook_private_ok,
            site,
        })
    }

    /// The ways this node hands over.
    pub fn vias(&self) -> Vec<Via> {
        let mut vias = vec![Via::Webhook];
        if self.mailer.is_some() {
            vias.push(Via::Email);
        }
        if self.sms.is_some() {
            vias.push(Via::Sms);
        }
        vias
    }

    pub async fn send(&self, store: &Store, out: &Outgoing) -> Result<(), SendError> {
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        let language = crate::settings::of(&mut conn, out.to.id)
            .await?
            .language
            .unwrap_or(Language::English);
        let webhook = match out.via {
            Via::Webhook => super::settings::of(&mut conn, out.to.id).await?.webhook,
            _ => None,
        };
        drop(conn);
        if out.outside.is_some() {
            return self
                .email(out, &Text::outside(out, language, &self.site))
                .await;
        }
        let text = Text::new(out, language, &self.site);
        match out.via {
            Via::App => Ok(()),
            Via::Email => self.email(out, &text).await,
            Via::Sms => self.sms(out, &text).await,
            Via::Webhook => match webhook {
                Some(webhook) => self.webhook(out, &text, &webhook).await,
                None => Err(SendError::NoAddress("no webhook set")),
            },
        }
    }

    async fn email(&self, out: &Outgoing, text: &Text) -> Result<(), SendError> {
        let Some((transport, from)) = &self.mailer else {
            return Err(SendError::Refused("no SMTP server configured".into()));
        };
        let to = match &out.outside {
            Some(address) => Mailbox::new(
                None,
                address
                    .parse()
                    .map_err(|_| SendError::Refused(format!("not an email address: {address}")))?,
            ),
            None if out.email.is_empty() => return Err(SendError::NoAddress("no email address")),
            None => Mailbox::new(
                Some(out.to.username.clone()),
                out.email.parse().map_err(|_| {
                    SendError::Refused(format!("not an email address: {}", out.email))
                })?,
            ),
        };
        let host = from.email.domain().to_owned();
        let mut message = Message::builder().from(from.clone()).to(to);
        if out.outside.is_some() {
            // Answers to a mail from a person go to that person, when they have an address.
            if let Ok(address) = out.email.parse() {
                message = message.reply_to(Mailbox::new(Some(out.sender.clone()), address));
            }
        }
        let message = message
            .subject(&text.subject)
            // The same row always has the same Message-ID: a receiver can tell a repeat.
            .message_id(Some(format!("<xietong-outbox-{}@{host}>", out.id)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(text.plain.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(text.html()),
                    ),
            )
            .map_err(|e| SendError::Refused(e.to_string()))?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendError::Smtp(e.to_string()))
    }

    async fn sms(&self, out: &Outgoing, text: &Text) -> Result<(), SendError> {
        let Some((url, body)) = &self.sms else {
            return Err(SendError::Refused("no SMS gateway configured".into()));
        };
        if out.mobile.is_empty() {
            return Err(SendError::NoAddress("no mobile number"));
        }
        let id = out.id.to_string();
        let fill = |template: &str, escape: &dyn Fn(&str) -> String| {
            template
                .replace("{mobile}", &escape(&out.mobile))
                .replace("{id}", &escape(&id))
                .replace("{text}", &escape(&text.sms))
        };
        let url = fill(url, &|s| xietong::files::percent_encode(s));
        let request = match body {
            Some(body) => self
                .http
                .post(&url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(fill(body, &json_inner)),
            None => self.http.get(&url),
        };
        check(request.send().await).await
    }

    async fn webhook(
        &self,
        out: &Outgoing,
        text: &Text,
        webhook: &Webhook,
    ) -> Result<(), SendError> {
        let mut url = reqwest::Url::parse(&webhook.url)
            .map_err(|_| SendError::Refused("the webhook is not a URL".into()))?;
        let addr = self.resolve_public(&url).await?;
        let now = crate::store::now_ms();
        let content = format!("{}\n{}", text.subject, text.plain);
        let body = match webhook.kind {
            WebhookKind::Generic => serde_json::json!({
                "id": out.id,
                "module": out.module.as_str(),
                "title": out.title,
                "text": out.text,
                "from": out.sender,
                "urgent": out.urgent,
                "url": text.link,
            }),
            WebhookKind::DingTalk => {
                if !webhook.secret.is_empty() {
                    // DingTalk: sign = base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")).
                    let sign = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
                        webhook.secret.as_bytes(),
                        format!("{now}\n{}", webhook.secret).as_bytes(),
                    ));
                    url.query_pairs_mut()
                        .append_pair("timestamp", &now.to_string())
                        .append_pair("sign", &sign);
                }
                serde_json::json!({ "msgtype": "text", "text": { "content": content } })
            }
            WebhookKind::WeCom => {
                serde_json::json!({ "msgtype": "text", "text": { "content": content } })
            }
            WebhookKind::Feishu => {
                let seconds = now / 1000;
                let mut body = serde_json::json!({
                    "msg_type": "text",
                    "content": { "text": content },
                });
                if !webhook.secret.is_empty() {
                    // Feishu: sign = base64(HMAC-SHA256(key = "{timestamp}\n{secret}", "")).
                    let sign = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
                        format!("{seconds}\n{}", webhook.secret).as_bytes(),
                        b"",
                    ));
                    body["timestamp"] = seconds.to_string().into();
                    body["sign"] = sign.into();
                }
                body
            }
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| SendError::Refused(e.to_string()))?;
        let mut request = self
            .http
            .post(url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("X-Xietong-Delivery", out.id.to_string())
            .header("X-Xietong-Timestamp", now.to_string());
        if webhook.kind == WebhookKind::Generic && !webhook.secret.is_empty() {
            // Generic: HMAC-SHA256(secret, "{timestamp}.{body}"), hex.
            let mut signed = now.to_string().into_bytes();
            signed.push(b'.');
            signed.extend_from_slice(&bytes);
            let signature = hex(&hmac_sha256(webhook.secret.as_bytes(), &signed));
            request = request.header("X-Xietong-Signature", format!("sha256={signature}"));
        }
        // Connect to the address that was checked, not whatever the name resolves to next.
        let client = match addr {
            Some(addr) => reqwest::Client::builder()
                .timeout(SEND_TIMEOUT)
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .resolve(url.host_str().unwrap_or_default(), addr)
                .build()
                .map_err(|e| SendError::Http(e.to_string()))?,
            None => self.http.clone(),
        };
        let request = request
            .body(bytes)
            .build()
            .map_err(|e| SendError::Refused(e.to_string()))?;
        check(client.execute(request).await).await
    }

    /// Refuses a webhook whose host is (or resolves to) a loopback, private or link-local
    /// address, unless the deployment allows those; returns the checked address to use.
    async fn resolve_public(
        &self,
        url: &reqwest::Url,
    ) -> Result<Option<std::net::SocketAddr>, SendError> {
        if self.private_webhooks {
            return Ok(None);
        }
        let host = url
            .host_str()
            .ok_or_else(|| SendError::Refused("the webhook has no host".into()))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| SendError::Http(format!("cannot resolve {host}: {e}")))?
            .collect();
        let first = addrs
            .first()
            .copied()
            .ok_or_else(|| SendError::Http(format!("{host} has no address")))?;
        if addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(SendError::Refused(format!(
                "webhooks may not reach private addresses ({host})"
            )));
        }
        // Only the web's own ports: any other could reach a service on this host's public
        // address from inside.
        if port != 80 && port != 443 {
            return Err(SendError::Refused(format!(
                "webhooks go to port 80 or 443 (not {port})"
            )));
        }
        Ok(Some(first))
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                // 100.64.0.0/10, carrier-grade NAT.
                || (a == 100 && (b & 0xc0) == 64)
                // 192.0.0.0/24 (protocol assignments), 198.18.0.0/15 (benchmarking).
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b & 0xfe) == 18)
                // Multicast and reserved.
                || a >= 224)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::new(
                    (hi >> 8) as u8,
                    hi as u8,
                    (lo >> 8) as u8,
                    lo as u8,
                ))
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            // NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and IPv4-compatible (::/96) carry an IPv4
            // address in the last 32 bits; 6to4 (2002::/16) in bits 16–48.
            if (s[0] == 0x64 && s[1] == 0xff9b) || s[..6].iter().all(|x| *x == 0) {
                return is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return is_public(embedded(s[1], s[2]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] & 0xff00) == 0xff00)
        }
    }
}

async fn check(response: Result<reqwest::Response, reqwest::Error>) -> Result<(), SendError> {
    // Without the URL: it may hold a gateway's key or a robot's token, and the error goes to
    // the delivery log.
    let response = response.map_err(|e| SendError::Http(e.without_url().to_string()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(SendError::Http(format!("answered {status}")))
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON string's inside (no quotes), for a body template.
fn json_inner(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// The words of a notification, in the reader's language.
struct Text {
    subject: String,
    plain: String,
    sms: String,
    link: String,
    sender: String,
    body: String,
    module: &'static str,
    open: &'static str,
}

impl Text {
    fn new(out: &Outgoing, language: Language, site: &str) -> Text {
        let module = module_name(out.module, language);
        let urgent = match (out.urgent, language) {
            (false, _) => "",
            (true, Language::Chinese) => "【紧急】",
            (true, Language::English) => "URGENT: ",
        };
        let subject = format!("[{module}] {urgent}{}", out.title);
        let link = format!("{}{}", site.trim_end_matches('/'), out.href);
        let open = match language {
            Language::Chinese => "打开",
            Language::English => "Open",
        };
        let from = match language {
            Language::Chinese => "来自",
            Language::English => "From",
        };
        let sender_line = if out.sender.is_empty() {
            String::new()
        } else {
            format!("{from}: {}\n\n", out.sender)
        };
        let plain = format!("{sender_line}{}\n\n{open}: {link}\n", out.text);
        let sms: String = format!("【协同】{urgent}{}: {}", out.title, out.text)
            .chars()
            .take(70)
            .collect();
        Text {
            subject,
            plain,
            sms,
            link,
            sender: out.sender.clone(),
            body: out.text.clone(),
            module,
            open,
        }
    }

    /// A mail to an outside address: its subject and text as the sender wrote them, signed
    /// with who sent it from where (no link: the reader has no account).
    fn outside(out: &Outgoing, language: Language, site: &str) -> Text {
        let via = match language {
            Language::Chinese => format!("{} 通过协同发送（{site}）", out.sender),
            Language::English => format!("Sent by {} from Xietong ({site})", out.sender),
        };
        Text {
            subject: out.title.clone(),
            plain: format!("{}\n\n-- \n{via}\n", out.text),
            sms: String::new(),
            link: String::new(),
            sender: out.sender.clone(),
            body: out.text.clone(),
            module: module_name(out.module, language),
            open: "",
        }
    }

    /// The HTML part: every user-written piece escaped.
    fn html(&self) -> String {
        let e = |s: &str| ammonia::clean_text(s);
        let sender = if self.sender.is_empty() {
            String::new()
        } else {
            format!("<p><strong>{}</strong></p>", e(&self.sender))
        };
        // Mail to an outside address has nothing to open.
        let link = if self.link.is_empty() {
            String::new()
        } else {
            format!("<p><a href=\"{}\">{}</a></p>", e(&self.link), self.open)
        };
        format!(
            "<!doctype html><html><body><p style=\"color:#666\">{module}</p><h2>{subject}</h2>{sender}<p style=\"white-space:pre-wrap\">{body}</p>{link}</body></html>",
            module = e(self.module),
            subject = e(&self.subject),
            body = e(&self.body),
        )
    }
}

fn module_name(module: Module, language: Language) -> &'static str {
    match (module, language) {
        (Module::Chat, Language::English) => "Chat",
        (Module::Chat, Language::Chinese) => "聊天",
        (Module::Notices, Language::English) => "Notices",
        (Module::Notices, Language::Chinese) => "通知公告",
        (Module::News, Language::English) => "News",
        (Module::News, Language::Chinese) => "新闻",
        (Module::Forum, Language::English) => "Forum",
        (Module::Forum, Language::Chinese) => "论坛",
        (Module::Mail, Language::English) => "Mail",
        (Module::Mail, Language::Chinese) => "内部邮件",
        (Module::ShortMessages, Language::English) => "Short messages",
        (Module::ShortMessages, Language::Chinese) => "短信",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_in_the_html_part() {
        let out = Outgoing {
            id: 1,
            to: UserRef {
                id: xietong::UserId(1),
                username: "bob".into(),
            },
            email: "bob@example.com".into(),
            outside: None,
            mobile: String::new(),
            via: Via::Email,
            module: Module::ShortMessages,
            title: "<script>alert(1)</script>".into(),
            text: "<img src=x onerror=alert(1)> & more".into(),
            href: "/messages".into(),
            sender: "<b>eve</b>".into(),
            urgent: true,
        };
        let text = Text::new(&out, Language::Chinese, "https://oa.example.com");
        let html = text.html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>eve"), "{html}");
        let link = ammonia::clean_text("https://oa.example.com/messages");
        assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
        assert!(text.subject.starts_with("[短信] 【紧急】"));
        assert!(text.sms.chars().count() <= 70);
    }

    #[test]
    fn private_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
            "0.1.2.3",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "::7f00:1",
            "fec0::1",
            "ff02::1",
            "224.0.0.1",
            "198.18.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "2400:3200::1", "114.114.114.114"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn json_template_values_stay_strings() {
        assert_eq!(json_inner("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
