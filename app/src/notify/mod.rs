//! The notification centre's screens: "Notification settings" (per module, which ways — in
//! app, email, SMS, webhook —, quiet hours, my webhook), live from my user scope so every tab
//! of mine follows; and the admin's "Delivery log". The "Notifications" list itself is in the
//! sidebar (`chat::NotificationsButton`).

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};
use xietong::notify::{
    Delivery, Module, ModuleDelivery, MyNotificationSettings, NotificationSettings, QuietHours,
    SaveNotificationSettings, Via, Webhook, WebhookKind,
};
use xietong::{Command, Seq};

use crate::command::command_action;
use crate::live::Live;
use crate::AppError;

#[server(prefix = "/api", endpoint = "notification_settings", output = crate::codec::TextJson)]
pub async fn load_notification_settings() -> Result<MyNotificationSettings, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?
        .notification_settings(&user)
        .await
}

#[server(prefix = "/api", endpoint = "delivery_log", output = crate::codec::TextJson)]
pub async fn load_delivery_log() -> Result<Vec<Delivery>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.delivery_log(&user).await
}

/// My settings as this tab knows them.
type SettingsView = crate::live::Mine<MyNotificationSettings>;

impl crate::live::MyState for MyNotificationSettings {
    type Event = xietong::notify::NotifyEvent;

    fn head(&self) -> Seq {
        self.head
    }

    fn head_mut(&mut self) -> &mut Seq {
        &mut self.head
    }

    fn apply_event(&mut self, body: &Self::Event) {
        if let xietong::notify::NotifyEvent::NotificationSettingsChanged { settings } = body {
            self.settings = settings.clone();
        }
    }
}

/// `/settings/notifications`, loaded on demand.
#[derive(Debug)]
pub struct NotificationSettingsRoute;

#[lazy_route]
impl LazyRoute for NotificationSettingsRoute {
    fn data() -> Self {
        NotificationSettingsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <NotificationSettingsPage /> }.into_any()
    }
}

#[component]
fn NotificationSettingsPage() -> impl IntoView {
    let t = crate::i18n::office();
    let found = Resource::new(|| (), |_| load_notification_settings());
    view! {
        <div class="notification-settings page">
            <h1>{t.notification_settings}</h1>
            <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(found) => {
                            let view = expect_context::<Live>().keep_mine(found, load_notification_settings);
                            view! { <SettingsForm view /> }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
    .into_any()
}

/// "HH:MM" for minutes after midnight.
fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn minutes(clock: &str) -> Option<u16> {
    let (h, m) = clock.split_once(':')?;
    let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

#[component]
fn SettingsForm(view: RwSignal<SettingsView>) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    // The form edits a draft; a change from another tab replaces it.
    let draft = RwSignal::new(view.get_untracked().0.settings);
    Effect::new(move |_| draft.set(view.with(|v| v.0.settings.clone())));
    let outlets = move || view.with(|v| v.0.outlets.clone());
    let saved = move || matches!(action.value().get(), Some(Ok(_)));
    let error = move || crate::error::failure_text(t, action.value().get());
    let webhook_url = RwSignal::new(String::new());
    let webhook_kind = RwSignal::new(WebhookKind::Generic);
    let webhook_secret = RwSignal::new(String::new());
    let quiet_on = RwSignal::new(false);
    let quiet_from = RwSignal::new("22:00".to_owned());
    let quiet_until = RwSignal::new("07:00".to_owned());
    Effect::new(move |_| {
        draft.with(|d| {
            let hook = d.webhook.clone();
            webhook_url.set(hook.as_ref().map(|w| w.url.clone()).unwrap_or_default());
            webhook_kind.set(hook.as_ref().map(|w| w.kind).unwrap_or_default());
            webhook_secret.set(hook.map(|w| w.secret).unwrap_or_default());
            quiet_on.set(d.quiet_hours.is_some());
            if let Some(q) = d.quiet_hours {
                quiet_from.set(clock(q.from));
                quiet_until.set(clock(q.until));
            }
        })
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut settings: NotificationSettings = draft.get_untracked();
        let url = webhook_url.get_untracked().trim().to_owned();
        settings.webhook = (!url.is_empty()).then(|| Webhook {
            url,
            kind: webhook_kind.get_untracked(),
            secret: webhook_secret.get_untracked(),
        });
        settings.quiet_hours = if quiet_on.get_untracked() {
            match (
                minutes(&quiet_from.get_untracked()),
                minutes(&quiet_until.get_untracked()),
            ) {
                (Some(from), Some(until)) => Some(QuietHours {
                    from,
                    until,
                    utc_offset_minutes: expect_context::<Live>().utc_offset_minutes.get_untracked()
                        as i16,
                }),
                _ => None,
            }
        } else {
            None
        };
        action.dispatch(Command::SaveNotificationSettings(
            SaveNotificationSettings { settings },
        ));
    };
    let rows = Module::ALL
        .into_iter()
        .map(|module| {
            let name = module_name(t, module);
            let cell = move |via: Via, way: &'static str| {
                let checked = move || draft.with(|d| d.for_module(module).allows(via));
                let disabled = move || !outlets().contains(&via);
                let toggle = move |ev: leptos::ev::Event| {
                    let on = event_target_checked(&ev);
                    draft.update(|d| {
                        let mut m: ModuleDelivery = d.for_module(module);
                        match via {
                            Via::App => m.app = on,
                            Via::Email => m.email = on,
                            Via::Sms => m.sms = on,
                            Via::Webhook => m.webhook = on,
                        }
                        d.modules.retain(|x| x.module != module);
                        d.modules.push(m);
                        d.modules.sort_by_key(|x| x.module);
                    });
                };
                view! {
                    <td>
                        <input type="checkbox" aria-label=(t.way_for_module)(way, name)
                            prop:checked=checked prop:disabled=disabled on:change=toggle />
                    </td>
                }
            };
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    {cell(Via::App, t.in_app)}
                    {cell(Via::Email, t.by_email)}
                    {cell(Via::Sms, t.by_sms)}
                    {cell(Via::Webhook, t.by_webhook)}
                </tr>
            }
        })
        .collect_view();
    view! {
        <form class="settings-form" on:submit=save aria-label=t.notification_settings>
            <table class="ways">
                <thead>
                    <tr>
                        <th scope="col">{t.module}</th>
                        <th scope="col">{t.in_app}</th>
                        <th scope="col">{t.by_email}</th>
                        <th scope="col">{t.by_sms}</th>
                        <th scope="col">{t.by_webhook}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <fieldset>
                <legend>{t.quiet_hours}</legend>
                <label class="checkbox">
                    <input type="checkbox" prop:checked=move || quiet_on.get()
                        on:change=move |ev| quiet_on.set(event_target_checked(&ev)) />
                    {t.quiet_hours_on}
                </label>
                <label>{t.quiet_from}
                    <input type="time" prop:value=move || quiet_from.get()
                        on:input=move |ev| quiet_from.set(event_target_value(&ev)) />
                </label>
                <label>{t.quiet_until}
                    <input type="time" prop:value=move || quiet_until.get()
                        on:input=move |ev| quiet_until.set(event_target_value(&ev)) />
                </label>
            </fieldset>
            <fieldset>
                <legend>{t.by_webhook}</legend>
                <label>{t.webhook_url}
                    <input type="url" maxlength="2000" prop:value=move || webhook_url.get()
                        on:input=move |ev| webhook_url.set(event_target_value(&ev)) />
                </label>
                <label>{t.webhook_kind}
                    <select on:change=move |ev| webhook_kind.set(match event_target_value(&ev).as_str() {
                        "ding_talk" => WebhookKind::DingTalk,
                        "we_com" => WebhookKind::WeCom,
                        "feishu" => WebhookKind::Feishu,
                        _ => WebhookKind::Generic,
                    })>
                        <option value="generic" selected=move || webhook_kind.get() == WebhookKind::Generic>{t.webhook_generic}</option>
                        <option value="ding_talk" selected=move || webhook_kind.get() == WebhookKind::DingTalk>{t.webhook_dingtalk}</option>
                        <option value="we_com" selected=move || webhook_kind.get() == WebhookKind::WeCom>{t.webhook_wecom}</option>
                        <option value="feishu" selected=move || webhook_kind.get() == WebhookKind::Feishu>{t.webhook_feishu}</option>
                    </select>
                </label>
                <label>{t.webhook_secret}
                    <input type="password" autocomplete="off" maxlength="200" prop:value=move || webhook_secret.get()
                        on:input=move |ev| webhook_secret.set(event_target_value(&ev)) />
                </label>
            </fieldset>
            <button type="submit">{t.save_notification_settings}</button>
            <Show when=saved>
                <p role="status">{t.saved}</p>
            </Show>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
        </form>
    }
    .into_any()
}

/// The admin's delivery log: the newest deliveries by email, SMS and webhook, how far each
/// got, and why the last attempt failed. Refreshed every few seconds while shown.
#[component]
pub fn DeliveryLog() -> impl IntoView {
    let t = crate::i18n::office();
    let version = RwSignal::new(0u32);
    let rows = Resource::new(move || version.get(), |_| load_delivery_log());
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let handle = set_interval_with_handle(
            move || version.update(|v| *v += 1),
            std::time::Duration::from_secs(5),
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    let table = move |found: Vec<Delivery>| {
        if found.is_empty() {
            return view! { <p class="empty">{t.nothing_delivered}</p> }.into_any();
        }
        let body = found
            .into_iter()
            .map(|d| {
                let via = match d.via {
                    Via::App => t.in_app,
                    Via::Email => t.by_email,
                    Via::Sms => t.by_sms,
                    Via::Webhook => t.by_webhook,
                };
                view! {
                    <tr>
                        <td>{d.to.username}</td>
                        <td>{via}</td>
                        <td>{module_name(t, d.module)}</td>
                        <td>{d.title}</td>
                        <td class=format!("state {}", d.state.as_str())>{(t.delivery_state)(d.state)}</td>
                        <td>{d.attempts}</td>
                        <td>{d.error}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="delivery-log" aria-label=t.delivery_log>
                <thead>
                    <tr>
                        <th scope="col">{t.recipient}</th>
                        <th scope="col">{t.via}</th>
                        <th scope="col">{t.module}</th>
                        <th scope="col">{t.title_column}</th>
                        <th scope="col">{t.state}</th>
                        <th scope="col">{t.attempts}</th>
                        <th scope="col">{t.error_column}</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="delivery" aria-labelledby="delivery-log-title">
            <h2 id="delivery-log-title">{t.delivery_log}</h2>
            <button type="button" on:click=move |_| version.update(|v| *v += 1)>{t.refresh}</button>
            <Transition>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(found) => table(found),
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// A module's name as the navigation shows it.
pub fn module_name(t: &crate::i18n::Texts, module: Module) -> &'static str {
    match module {
        Module::Chat => t.chat,
        Module::Notices => t.notices,
        Module::News => t.news,
        Module::Forum => t.forum,
        Module::Mail => t.mail,
        Module::ShortMessages => t.short_messages,
    }
}
