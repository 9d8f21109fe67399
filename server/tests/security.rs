//! Attacks tried against a real server, each through its public surface.

mod common;

use std::time::Duration;

use common::*;
use xietong::{ClientMsg, ErrorCode, Scope, Seq, ServerMsg};

#[tokio::test]
async fn log_in_and_sign_up_are_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| c.auth_rate = 3).await;
    let base = server.base();
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = post_form(
            &base,
            "login",
            &format!("username=nobody{i}&password=whatever1"),
        )
        .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let r = post_form(&base, "signup", "username=newbie&password=correct horse").await;
    assert_eq!(r.status(), 429);
    // X-Forwarded-For from a client that is not a trusted proxy changes nothing.
    let r = login_from(&base, "203.0.113.9").await;
    assert_eq!(r, 429);
    server.stop().await;
}

async fn login_from(base: &str, forwarded_for: &str) -> u16 {
    http()
        .post(format!("{base}/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", forwarded_for)
        .body("username=nobody&password=whatever1")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Behind a trusted reverse proxy, each client address has its own limit (not the proxy's
/// one address for everyone), and a client cannot pick its address by writing the header.
#[tokio::test]
async fn behind_a_trusted_proxy_limits_count_per_forwarded_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| {
        c.auth_rate = 3;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let base = server.base();
    let mut first = Vec::new();
    for _ in 0..4 {
        first.push(login_from(&base, "203.0.113.5").await);
    }
    assert_eq!(first, [401, 401, 401, 429]);
    // Another client behind the same proxy is not limited by the first one's attempts.
    assert_eq!(login_from(&base, "203.0.113.6").await, 401);
    // A client that forged an entry further left is still counted as the address the proxy saw.
    assert_eq!(login_from(&base, "198.51.100.1, 203.0.113.5").await, 429);
    server.stop().await;
}

/// A log-in form posted before the page's code loaded (a plain HTML form post) that fails goes
/// back to the form's page with the error, which the server-rendered page shows; not a page of
/// raw JSON.
#[tokio::test]
async fn a_failed_plain_form_post_goes_back_to_the_form_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let base = server.base();
    server.sign_up("alice").await;
    let client = http(); // follows no redirects
    for (page, form, shown) in [
        (
            "login",
            "username=alice&password=not+the+password",
            "Wrong username or password",
        ),
        (
            "signup",
            "username=ALICE&password=correct+horse+battery",
            "That username is taken",
        ),
    ] {
        let response = client
            .post(format!("{base}/api/{page}"))
            .header("origin", server.origin())
            .header("referer", format!("{base}/{page}?invite=abc&error=old"))
            .header("accept", "text/html,application/xhtml+xml")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{page}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!("/{page}?invite=abc&error=")),
            "{location}"
        );
        assert_eq!(location.matches("error=").count(), 1, "{location}");
        let html = http()
            .get(format!("{base}{location}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!(r#"role="alert" class="error">{shown}<"#)),
            "{page}: {html}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn expected_failures_answer_4xx_not_500() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let base = server.base();
    let alice = server.sign_up("alice").await;
    let wrong = post_form(&base, "login", "username=alice&password=not the password").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("BadCredentials"));
    assert_eq!(
        post_form(&base, "signup", "username=bob&password=short")
            .await
            .status(),
        400
    );
    assert_eq!(
        post_form(&base, "signup", "username=bob").await.status(),
        400
    );
    assert_eq!(
        post_form(&base, "signup", "username=ALICE&password=correct horse")
            .await
            .status(),
        409
    );
    // Case in every script, not only ASCII: Ärger and ärger, ИВАН and иван are one name,
    // for sign-up, log-in and `@` mentions alike.
    server.sign_up("Ärger").await;
    server.sign_up("иван").await;
    for (taken, login) in [("ärger", "ÄRGER"), ("ИВАН", "Иван")] {
        let form = format!(
            "username={}&password=correct horse battery",
            urlencode(taken)
        );
        assert_eq!(
            post_form(&base, "signup", &form).await.status(),
            409,
            "{taken}"
        );
        assert!(server.log_in(login, PASSWORD).await.is_some(), "{login}");
    }
    let anonymous = post_form(&base, "create_channel", "name=x").await;
    assert_eq!(anonymous.status(), 401);
    // A JSON body that does not decode is the caller's fault as much as a bad form field.
    let junk = http()
        .post(format!("{base}/api/command"))
        .header("cookie", &alice)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), 400);
    server.stop().await;
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>, name: &str| {
        let mut request = http()
            .post(format!("{}/api/create_channel", server.base()))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .body(format!("name={name}"));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    let evil = post(Some("http://evil.example"), Some("cross-site"), "evil1")
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let evil = post(None, Some("cross-site"), "evil2").await.unwrap();
    assert_eq!(evil.status(), 403);
    let own = server.origin();
    let own: &'static str = Box::leak(own.into_boxed_str());
    let ok = post(Some(own), Some("same-origin"), "fine").await.unwrap();
    assert_eq!(ok.status(), 200);
    // Only the same-origin one exists.
    let mut client = server.connect(&cookie).await;
    let (events, _) = client.subscribe(Scope::Workspace, Some(Seq::ZERO)).await;
    let names: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.body {
            xietong::EventBody::Chat(xietong::chat::ChatEvent::ChannelCreated { channel }) => {
                Some(channel.name.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(names, ["general", "fine"]);
    server.stop().await;
}

#[tokio::test]
async fn unknown_host_names_are_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let signup = http()
        .post(format!("{}/api/signup", server.base()))
        .header(
            "host",
            format!("rebind.evil:{}", server.running.addr.port()),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=mallory&password=correct horse")
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 421);
    assert!(signup.headers().get("set-cookie").is_none());
    let page = http()
        .get(format!("{}/login", server.base()))
        .header("host", "rebind.evil")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 421);
    let own = http()
        .get(format!("{}/login", server.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let local = http()
        .get(format!("{}/login", server.base()))
        .header("host", format!("localhost:{}", server.running.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), 200);
    server.stop().await;
}

/// Ten people sign up at once on a fresh workspace: exactly one becomes admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_first_account_becomes_admin() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let signups: Vec<_> = (0..10)
        .map(|i| {
            let base = server.base();
            tokio::spawn(async move {
                auth_request(&base, "signup", &format!("first{i}"), PASSWORD)
                    .await
                    .expect("signed up")
            })
        })
        .collect();
    let mut admins = 0;
    for signup in signups {
        let cookie = signup.await.unwrap();
        admins += usize::from(server.whoami(&cookie).await.is_admin);
    }
    assert_eq!(admins, 1);
    server.stop().await;
}

/// Commands are limited per user across all their sockets, not per socket.
#[tokio::test]
async fn the_posting_limit_counts_every_socket_of_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| c.post_rate = 2).await;
    let cookie = server.sign_up("alice").await;
    let mut tabs = Vec::new();
    for _ in 0..3 {
        tabs.push(server.connect(&cookie).await);
    }
    // A burst of 4x the rate is allowed in all; the 9th within the second is refused.
    let mut answers = Vec::new();
    for i in 0..9 {
        let tab = &mut tabs[i % 3];
        let id = tab.post(GENERAL, &format!("m{i}")).await;
        answers.push(tab.answer(&id).await.err());
    }
    let refused = answers
        .iter()
        .filter(|a| **a == Some(ErrorCode::RateLimited))
        .count();
    assert_eq!(refused, 1, "{answers:?}");
    server.stop().await;
}

/// A client that asks for a long replay and stops reading is cut off at the write deadline
/// instead of holding the replay in memory forever.
#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| c.write_timeout_secs = 1).await;
    let cookie = server.sign_up("alice").await;
    let mut writer = server.connect(&cookie).await;
    let body = "满".repeat(xietong::limits::MAX_MESSAGE_CHARS);
    let mut last = None;
    for _ in 0..1000 {
        last = Some(writer.post(GENERAL, &body).await);
    }
    writer.answer(&last.unwrap()).await.expect("all stored");
    let mut reader = server.connect(&cookie).await;
    reader
        .send(&ClientMsg::Subscribe {
            scope: Scope::Channel(GENERAL),
            after: Some(Seq::ZERO),
        })
        .await;
    // Not reading: 12 MB of replay fills every buffer between us.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut events = 0;
    let ended = loop {
        use futures::StreamExt;
        match tokio::time::timeout(Duration::from_secs(10), reader.ws.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) => {
                match serde_json::from_str::<ServerMsg>(text.as_str()) {
                    Ok(ServerMsg::Event(_)) => events += 1,
                    Ok(ServerMsg::Subscribed { .. }) => break false,
                    _ => {}
                }
            }
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))))
            | Ok(Some(Err(_)))
            | Ok(None) => break true,
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("neither cut off nor finished after {events} events"),
        }
    };
    assert!(
        ended,
        "the replay completed ({events} events) although the client did not read"
    );
    assert!(events < 1000, "{events}");
    server.stop().await;
}

/// `xietong admin create NAME` against the directory (or PostgreSQL database) a test server
/// will use; the password comes on stdin.
async fn create_admin_on_the_command_line(dir: &std::path::Path, name: &str) {
    use std::io::Write;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_xietong"));
    match postgres_database_for(dir).await {
        Some(url) => command.args(["--database-url", &url]),
        None => command.arg("--data-dir").arg(dir.join("data")),
    };
    let mut child = command
        .args(["--log", "warn", "admin", "create", name])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "admin create failed");
    assert!(String::from_utf8_lossy(&out.stdout).contains("created administrator"));
}

/// A fresh invitation's token, made by the admin whose cookie this is.
async fn invitation(base: &str, admin: &str) -> String {
    let link: String = http()
        .post(format!("{base}/api/create_invite"))
        .header("cookie", admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    link.strip_prefix("/signup?invite=")
        .expect("a sign-up link")
        .to_owned()
}

#[tokio::test]
async fn with_signup_by_invitation_only_an_admins_link_opens_an_account() {
    let dir = tempfile::tempdir().unwrap();
    create_admin_on_the_command_line(dir.path(), "boss").await;
    let server = TestServer::start_with(dir.path(), |c| {
        c.signup = xietong_server::config::SignupMode::Invite
    })
    .await;
    let base = server.base();
    let refused = post_form(&base, "signup", "username=walkin&password=correct horse").await;
    assert_eq!(refused.status(), 403);
    let bogus = post_form(
        &base,
        "signup",
        "username=walkin&password=correct horse&invite=nope",
    )
    .await;
    assert_eq!(bogus.status(), 403);
    let boss = server
        .log_in("boss", PASSWORD)
        .await
        .expect("the CLI's admin logs in");
    // A member may not invite; the admin may.
    let link: String = http()
        .post(format!("{base}/api/create_invite"))
        .header("cookie", &boss)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = link
        .strip_prefix("/signup?invite=")
        .expect("a sign-up link");
    let joined = post_form(
        &base,
        "signup",
        &format!(
            "username=newbie&password={}&invite={token}",
            urlencode(PASSWORD)
        ),
    )
    .await;
    assert!(
        joined.status().is_success() || joined.status().is_redirection(),
        "{}",
        joined.status()
    );
    let newbie = server.log_in("newbie", PASSWORD).await.unwrap();
    let member_invite = http()
        .post(format!("{base}/api/create_invite"))
        .header("cookie", &newbie)
        .send()
        .await
        .unwrap();
    assert_eq!(member_invite.status(), 403);
    let again = post_form(
        &base,
        "signup",
        &format!("username=second&password=correct horse&invite={token}"),
    )
    .await;
    assert_eq!(again.status(), 403, "an invitation opens one account");
    server.stop().await;
}

#[tokio::test]
async fn a_closed_workspace_takes_no_sign_ups() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| {
        c.signup = xietong_server::config::SignupMode::Closed
    })
    .await;
    let r = post_form(
        &server.base(),
        "signup",
        "username=walkin&password=correct horse",
    )
    .await;
    assert_eq!(r.status(), 403);
    server.stop().await;
}

/// Every page carries a Content-Security-Policy whose nonce is the one on its hydration
/// script, different on every response.
#[tokio::test]
async fn pages_carry_a_content_security_policy_with_a_fresh_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let page = http()
            .get(format!("{}/login", server.base()))
            .send()
            .await
            .unwrap();
        let csp = page
            .headers()
            .get("content-security-policy")
            .expect("a CSP header")
            .to_str()
            .unwrap()
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce")
            .to_owned();
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "the script carries the nonce"
        );
        assert!(csp.contains("object-src 'none'") && csp.contains("frame-ancestors 'none'"));
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1]);
    server.stop().await;
}

/// One invitation opens one account, even when several people use it at the same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_used_at_once_by_several_opens_one_account() {
    let dir = tempfile::tempdir().unwrap();
    create_admin_on_the_command_line(dir.path(), "boss").await;
    let server = TestServer::start_with(dir.path(), |c| {
        c.signup = xietong_server::config::SignupMode::Invite
    })
    .await;
    let base = server.base();
    let boss = server.log_in("boss", PASSWORD).await.unwrap();
    let token = invitation(&base, &boss).await;
    let attempts: Vec<_> = (0..6)
        .map(|i| {
            let base = base.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let body = format!(
                    "username=rush{i}&password={}&invite={token}",
                    urlencode(PASSWORD)
                );
                post_form(&base, "signup", &body).await.status()
            })
        })
        .collect();
    let mut opened = 0;
    for attempt in attempts {
        let status = attempt.await.unwrap();
        if status.is_success() || status.is_redirection() {
            opened += 1;
        } else {
            assert_eq!(status, 403);
        }
    }
    assert_eq!(opened, 1);
    server.stop().await;
}

/// Closing every socket and reconnecting does not refill a user's command allowance.
#[tokio::test]
async fn reconnecting_does_not_refill_the_command_allowance() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| c.post_rate = 1).await;
    let cookie = server.sign_up("alice").await;
    let mut tab = server.connect(&cookie).await;
    for i in 0..4 {
        let id = tab.post(GENERAL, &format!("m{i}")).await;
        tab.answer(&id).await.expect("within the burst");
    }
    drop(tab);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tab = server.connect(&cookie).await;
    let id = tab.post(GENERAL, "one too many").await;
    assert_eq!(tab.answer(&id).await, Err(ErrorCode::RateLimited));
    server.stop().await;
}

/// An open socket ends (4001) when its session expires, without any request in between.
#[tokio::test]
async fn a_socket_closes_when_its_session_expires() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.sign_up("alice").await;
    // A session that ends in two seconds, written where the server keeps its sessions.
    let token = "short-lived-session-token-for-the-expiry-test";
    let hash: String = sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let url = match postgres_database_for(dir.path()).await {
        Some(url) => url,
        None => format!("sqlite://{}", dir.path().join("data/xietong.db").display()),
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let expires = xietong_server::store::now_ms() + 2_000;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, 1, 0, $2)",
    )
    .bind(&hash)
    .bind(expires)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut client = server.connect(&format!("xietong_session={token}")).await;
    assert_eq!(
        client.close_code().await,
        Some(xietong::wire::close::SESSION_ENDED)
    );
    assert!(xietong_server::store::now_ms() >= expires);
    server.stop().await;
}

/// The subscription allowance is the user's, not each socket's: a second socket does not
/// bring a fresh one.
#[tokio::test]
async fn the_subscription_limit_counts_every_socket_of_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut first = server.connect(&cookie).await;
    let mut second = server.connect(&cookie).await;
    let general = Scope::Channel(GENERAL);
    // Spend the burst on the first socket (sent at once, faster than it refills).
    for _ in 0..xietong::limits::MAX_SUBSCRIPTIONS + 20 {
        first
            .send(&ClientMsg::Subscribe {
                scope: general,
                after: None,
            })
            .await;
    }
    let mut refused_first = 0;
    for _ in 0..xietong::limits::MAX_SUBSCRIPTIONS + 20 {
        if let ServerMsg::Error {
            code: ErrorCode::RateLimited,
            ..
        } = first.recv_skip_presence().await
        {
            refused_first += 1;
        }
    }
    assert!(refused_first > 0, "the first socket was never limited");
    // The second socket starts where the first left off.
    second
        .send(&ClientMsg::Subscribe {
            scope: Scope::Channel(xietong::ChannelId(1)),
            after: None,
        })
        .await;
    for _ in 0..9 {
        second
            .send(&ClientMsg::Subscribe {
                scope: general,
                after: None,
            })
            .await;
    }
    let mut refused_second = 0;
    for _ in 0..10 {
        if let ServerMsg::Error {
            code: ErrorCode::RateLimited,
            ..
        } = second.recv_skip_presence().await
        {
            refused_second += 1;
        }
    }
    assert!(
        refused_second >= 5,
        "the second socket brought a fresh allowance"
    );
    server.stop().await;
}
