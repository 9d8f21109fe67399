//! The address book as a file: CSV (opens in Excel and WPS: UTF-8 with a byte-order mark) and
//! vCard 3.0 (phones and mail programs). The same people the address book shows: active ones,
//! hidden mobile numbers left out; only for a signed-in user, through the access module.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use xietong::org::{path, OrgSnapshot, Person};
use xietong::CurrentUser;

use crate::AppState;

/// `GET /contacts/export/csv` or `/contacts/export/vcard` (no dot in the last segment: such
/// paths are static files, served without a session).
pub async fn export(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(file): Path<String>,
) -> Response {
    let Some(Extension(user)) = user else {
        return (StatusCode::UNAUTHORIZED, "Please log in").into_response();
    };
    let snapshot = match super::snapshot(&state.store, &user).await {
        Ok(snapshot) => snapshot,
        Err(crate::access::Denied::Store(e)) => {
            tracing::error!(error = %e, "address book export failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response();
        }
        Err(denied) => return (StatusCode::FORBIDDEN, denied.to_string()).into_response(),
    };
    let (body, content_type, name) = match file.as_str() {
        "csv" => match csv_file(&snapshot) {
            Ok(body) => (body, "text/csv; charset=utf-8", "contacts.csv"),
            Err(e) => {
                tracing::error!(error = %e, "address book CSV failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response();
            }
        },
        "vcard" => (
            vcard_file(&snapshot),
            "text/vcard; charset=utf-8",
            "contacts.vcf",
        ),
        _ => return (StatusCode::NOT_FOUND, "no such export").into_response(),
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn listed(snapshot: &OrgSnapshot) -> impl Iterator<Item = (&Person, String)> {
    snapshot.people.iter().filter(|p| p.active).map(|p| {
        let department = p
            .main_department
            .map(|d| path(&snapshot.departments, d))
            .unwrap_or_default();
        (p, department)
    })
}

/// The columns an import reads back: name, username, department path, title, mobile, email.
fn csv_file(snapshot: &OrgSnapshot) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer("\u{FEFF}".as_bytes().to_vec());
    out.write_record(["name", "username", "department", "title", "mobile", "email"])?;
    for (person, department) in listed(snapshot) {
        out.write_record([
            person.display_name(),
            &person.username,
            &department,
            &person.title,
            &person.mobile,
            &person.email,
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// A vCard text value: backslash, comma, semicolon and line breaks escaped (RFC 2426).
pub fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn vcard_file(snapshot: &OrgSnapshot) -> Vec<u8> {
    let mut out = String::new();
    for (person, department) in listed(snapshot) {
        let name = escaped(person.display_name());
        out.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\n");
        out.push_str(&format!("FN:{name}\r\nN:{name};;;;\r\n"));
        out.push_str(&format!("NICKNAME:{}\r\n", escaped(&person.username)));
        if !department.is_empty() {
            let units: Vec<String> = department.split('/').map(escaped).collect();
            out.push_str(&format!("ORG:{}\r\n", units.join(";")));
        }
        if !person.title.is_empty() {
            out.push_str(&format!("TITLE:{}\r\n", escaped(&person.title)));
        }
        if !person.mobile.is_empty() {
            out.push_str(&format!("TEL;TYPE=CELL:{}\r\n", escaped(&person.mobile)));
        }
        if !person.email.is_empty() {
            out.push_str(&format!(
                "EMAIL;TYPE=INTERNET:{}\r\n",
                escaped(&person.email)
            ));
        }
        out.push_str("END:VCARD\r\n");
    }
    out.into_bytes()
}
