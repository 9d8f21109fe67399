//! Personal contacts as files: vCard in (read with the `ical` crate's vCard parser: versions
//! 2.1, 3.0 and 4.0 as phones and mail programs write them), vCard 3.0 and CSV out.

use app::AppError;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use xietong::contacts::{Contact, ContactFields, ImportContacts};
use xietong::{ClientMsgId, Command, CommandOutput, CurrentUser};

use crate::backend::Refusal;
use crate::command::{Actor, Submission};
use crate::org::export::escaped;
use crate::AppState;

/// The contacts in a vCard file, in order; each needs a name (`FN`, else `N`).
pub fn parse(text: &str) -> Result<Vec<ContactFields>, String> {
    let text = bare_parameters_named(text);
    let parser = ical::VcardParser::new(std::io::BufReader::new(text.as_bytes()));
    let mut out = Vec::new();
    for (i, card) in parser.enumerate() {
        let card = card.map_err(|e| format!("contact {}: {e}", i + 1))?;
        let mut fields = ContactFields::default();
        let mut structured = String::new();
        for property in card.properties {
            let Some(value) = property.value else {
                continue;
            };
            let value = unescaped(&value);
            let first = |v: &mut String| {
                if v.is_empty() {
                    *v = value.clone();
                }
            };
            match property.name.to_ascii_uppercase().as_str() {
                "FN" => first(&mut fields.name),
                "N" => {
                    // Family;Given;Additional;Prefix;Suffix: a Chinese name runs family first
                    // and without a space (王经理), others given first (John Smith).
                    let mut parts = value.split(';').map(str::trim);
                    let family = parts.next().unwrap_or_default();
                    let given = parts.next().unwrap_or_default();
                    structured = if format!("{family}{given}")
                        .chars()
                        .any(xietong::search::is_cjk)
                    {
                        format!("{family}{given}")
                    } else {
                        format!("{given} {family}").trim().to_owned()
                    };
                }
                "ORG" => first(&mut fields.company),
                "TITLE" => first(&mut fields.title),
                "TEL" => first(&mut fields.mobile),
                "EMAIL" => first(&mut fields.email),
                "NOTE" => first(&mut fields.note),
                _ => {}
            }
        }
        if fields.name.is_empty() {
            fields.name = structured;
        }
        fields.company = fields.company.replace(';', " ").trim().to_owned();
        fields.mobile = fields.mobile.trim_start_matches("tel:").to_owned();
        out.push(fields);
    }
    Ok(out)
}

/// vCard 2.1 (older phones) writes parameters bare (`TEL;CELL:…`); the parser wants them
/// named (`TEL;TYPE=CELL:…`).
fn bare_parameters_named(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let continued = line.starts_with(' ') || line.starts_with('\t');
        match line.split_once(':') {
            Some((head, value)) if !continued && head.contains(';') => {
                let mut parts = head.split(';');
                out.push_str(parts.next().unwrap_or_default());
                for param in parts {
                    out.push(';');
                    if !param.contains('=') {
                        out.push_str("TYPE=");
                    }
                    out.push_str(param);
                }
                out.push(':');
                out.push_str(value);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// A vCard text value with its escapes undone (`\,` `\;` `\n` `\\`).
fn unescaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn vcard_file(contacts: &[Contact]) -> Vec<u8> {
    let mut out = String::new();
    for c in contacts {
        let f = &c.fields;
        let name = escaped(&f.name);
        out.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\n");
        out.push_str(&format!("FN:{name}\r\nN:{name};;;;\r\n"));
        for (key, value) in [
            ("ORG", &f.company),
            ("TITLE", &f.title),
            ("TEL;TYPE=CELL", &f.mobile),
            ("EMAIL;TYPE=INTERNET", &f.email),
            ("NOTE", &f.note),
        ] {
            if !value.is_empty() {
                out.push_str(&format!("{key}:{}\r\n", escaped(value)));
            }
        }
        out.push_str("END:VCARD\r\n");
    }
    out.into_bytes()
}

fn csv_file(contacts: &[Contact]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer("\u{FEFF}".as_bytes().to_vec());
    out.write_record(["name", "company", "title", "mobile", "email", "note"])?;
    for c in contacts {
        let f = &c.fields;
        out.write_record([&f.name, &f.company, &f.title, &f.mobile, &f.email, &f.note])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

fn signed_in(user: Option<Extension<CurrentUser>>) -> Result<CurrentUser, Refusal> {
    user.map(|Extension(u)| u)
        .ok_or_else(|| AppError::Unauthorized.into())
}

/// `GET /contacts/mine/vcard` or `/contacts/mine/csv`: the signed-in user's own contacts.
pub async fn export(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(kind): Path<String>,
) -> Result<Response, Refusal> {
    let user = signed_in(user)?;
    let contacts = super::snapshot(&state.store, &user).await?.contacts;
    let (body, content_type, name) = match kind.as_str() {
        "vcard" => (
            vcard_file(&contacts),
            "text/vcard; charset=utf-8",
            "my-contacts.vcf",
        ),
        "csv" => (
            csv_file(&contacts).map_err(|e| {
                tracing::error!(error = %e, "contacts CSV failed");
                AppError::Internal
            })?,
            "text/csv; charset=utf-8",
            "my-contacts.csv",
        ),
        _ => return Err(AppError::NotFound("no such export".into()).into()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

#[derive(serde::Deserialize)]
pub struct ImportParams {
    client_id: String,
}

/// `POST /contacts/mine/import?client_id=…` with a vCard file: every contact in it is added,
/// or none (the answer says which one failed and why).
pub async fn import(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Query(params): Query<ImportParams>,
    body: Bytes,
) -> Result<Json<CommandOutput>, Refusal> {
    let user = signed_in(user)?;
    let client_id = ClientMsgId(params.client_id);
    if !client_id.is_well_formed() {
        return Err(AppError::Invalid(
            "client_id must be 8 to 64 letters, digits, '-' or '_'".into(),
        )
        .into());
    }
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| AppError::Invalid("a vCard file is UTF-8 text".into()))?;
    let contacts = tokio::task::spawn_blocking(move || parse(&text))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|why| AppError::Invalid(format!("not a vCard file: {why}")))?;
    if !state.hub.take_command_token(user.id) {
        return Err(AppError::RateLimited.into());
    }
    let applied = state
        .log
        .run(Submission {
            actor: Actor::User(user),
            client_id: Some(client_id),
            command: Command::ImportContacts(ImportContacts { contacts }),
        })
        .await?;
    Ok(Json(applied.output))
}

#[cfg(test)]
mod tests {
    #[test]
    fn vcards_from_phones_read_back() {
        let file = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Smith;John;;;\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nN:王;经理;;;\r\nORG:上海华东贸易\\, 有限公司;采购部\r\nTEL;TYPE=CELL:+86 139 0000 1111\r\nEMAIL:wang@example.com\r\nNOTE:第一行\\n第二行\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nFN:Li Lei\r\nTEL;CELL:13800000000\r\nEND:VCARD\r\n";
        let contacts = super::parse(file).unwrap();
        assert_eq!(contacts.len(), 3);
        assert_eq!(contacts[0].name, "John Smith");
        let contacts = &contacts[1..];
        assert_eq!(contacts[0].name, "王经理");
        assert_eq!(contacts[0].company, "上海华东贸易, 有限公司 采购部");
        assert_eq!(contacts[0].mobile, "+86 139 0000 1111");
        assert_eq!(contacts[0].note, "第一行\n第二行");
        assert_eq!(contacts[1].name, "Li Lei");
        assert!(super::parse("BEGIN:VCARD\r\nFN:x\r\n").is_err());
    }
}
