//! Composes the services into one HTTP application: the API routers (each with its OpenAPI
//! paths), the portal, the operational endpoints, and the layers every request passes through —
//! request id, tracing, metrics, body limit, timeout, panic catcher, problem+json fallbacks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use bauhinia_core::{ErrorCode, Problem, ProblemDocument};
use bauhinia_funding::FundingService;
use bauhinia_store::Database;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use utoipa::openapi::OpenApi;
use utoipa::{OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::rate_limit::RateLimit;

/// How long one request may take before it is abandoned with a 408.
const REQUEST_TIMEOUT_S: u64 = 30;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Bauhinia",
        description = "Hong Kong's digital public infrastructure: 資助易 Funding Easy, 智方便 iAM Smart (passkey sign-in, \
                       verification of document signatures; more coming), \
                       CorpID, CDEG/CDI/IADS, FPS, Banking Open API and open data. Errors are RFC 9457 \
                       application/problem+json with a stable `code`; see /docs/errors.",
        license(name = "Apache-2.0 OR MIT", identifier = "Apache-2.0 OR MIT"),
    ),
    tags(
        (name = "funding", description = "資助易 Funding Easy: scheme catalogue and eligibility matching"),
        (name = "identity-admin", description = "智方便 iAM Smart administration: services (relying parties) and signing keys. Needs the administrator token."),
        (name = "identity", description = "智方便 iAM Smart: enrolment, passkey sign-in, and a signed-in resident's passkeys"),
        (name = "signing", description = "智方便 iAM Smart digital signing: public verification of document signatures and the CA certificates"),
        (name = "fps", description = "轉數快 FPS: participants, settlement funding, transfers (single and batched; two-phase; linked), positions; the addressing service (proxies: mobile, email, FPS ID, HKID — register, change, remove, look up one or up to 1,000); payment flows (requests to pay, eDDA mandates and direct debits, returns and refunds); signed webhooks with retries and camt.054 notifications; the Hong Kong common QR code (EMVCo merchant-presented mode) — decode, encode, draw. Participants use their API token, the operator the administrator token."),
        (name = "exchange", description = "The consented data exchange (CDEG, CDI, IADS): the participants directory with each participant's published keys, the data products and their JSON Schemas, and the gateway's keys (public); consent requests, consents and the data-blind fetch (signed by participants: `x-participant-id` and a detached JWS in `x-jws-signature`)."),
        (name = "exchange-admin", description = "The consented data exchange's operator: register participants, suspend and reactivate them, replace their keys, set or clear their webhook endpoints, list dead letters and replay them. Needs the administrator token; every change is audited."),
        (name = "banks", description = "The participant banks this installation hosts (customers' accounts, paying through FPS): the list, an account's balances and cash deposits at the counter (the administrator token). Customers use the portal (/pay)."),
        (name = "corpid", description = "数码企业身份 CorpID for a business's representatives (the resident's session): the businesses the resident may act for, a business's details, representatives and their roles (administrator, authorised signatory, user), time-bound delegations to agent businesses, licences and the signing policy. Representatives read; administrators change; every change is audited."),
        (name = "corpid-signing", description = "数码企业身份 CorpID company signatures: public verification of a document hash against a company, personal or integrated signature (which business, which people in which roles, valid at the time of signing, revocation), and the CA-signed status of a certificate by serial."),
        (name = "corpid-admin", description = "数码企业身份 CorpID's operator: register a business with its first administrator, show one, suspend, reactivate, dissolve. Needs the administrator token; every change is audited."),
        (name = "opendata-admin", description = "開放數據 Open data's operator: publishers' API tokens for the CKAN Action API's writes — issue (the secret is shown once), list, revoke. Needs the administrator token; every change is audited."),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    ),
    modifiers(&AdminTokenScheme),
    components(schemas(bauhinia_core::ProblemDocument, bauhinia_core::FieldError))
)]
struct ApiDoc;

/// The administrator token, as an OpenAPI security scheme.
struct AdminTokenScheme;

impl utoipa::Modify for AdminTokenScheme {
    fn modify(&self, doc: &mut OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The administrator token (BAUHINIA_ADMIN_TOKEN, or the admin token file in the data directory)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "participant_signature",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "x-jws-signature",
                    "A data-exchange participant's detached JWS (ES256) over the body, bound to the method and path, made with a key registered for the participant named in x-participant-id (docs/exchange-gateway.md)",
                ),
            )),
        );
        components.add_security_scheme(
            "fps_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An FPS participant's API token (issued by the operator), or the administrator token"))
                    .build(),
            ),
        );
    }
}

/// Request counts and latencies, by route template (never by raw path, which would let a
/// stranger create unbounded label values).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    ledger_batches: Gauge<i64>,
    ledger_transfers: Gauge<i64>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

impl Metrics {
    pub fn new(funding_schemes: usize) -> Metrics {
        let mut registry = Registry::with_prefix("bauhinia");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        let schemes = Gauge::<i64>::default();
        schemes.set(i64::try_from(funding_schemes).unwrap_or(i64::MAX));
        registry.register(
            "funding_schemes",
            "Funding schemes in the loaded catalogue",
            schemes,
        );
        let ledger_batches = Gauge::<i64>::default();
        registry.register(
            "fps_ledger_batches",
            "Batches the FPS settlement ledger's writer committed since start",
            ledger_batches.clone(),
        );
        let ledger_transfers = Gauge::<i64>::default();
        registry.register(
            "fps_ledger_transfers",
            "Transfers (accepted or refused) the FPS settlement ledger's writer committed since start",
            ledger_transfers.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            ledger_batches,
            ledger_transfers,
        }
    }

    fn observe(&self, method: &str, route: &str, status: StatusCode, elapsed: Duration) {
        let labels = RouteLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status: status.as_u16(),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Database,
    pub funding: Arc<FundingService>,
    pub identity: Arc<bauhinia_identity::IdentityService>,
    pub provider: Arc<bauhinia_identity::oidc::Provider>,
    pub admin_token: Arc<bauhinia_core::admin::AdminToken>,
    /// Residents' signed-in sessions (cookie `bauhinia_session`).
    pub sessions: bauhinia_identity::SessionService,
    pub passkeys: Arc<bauhinia_identity::PasskeyService>,
    /// Where residents' browsers reach this server: the WebAuthn origin and OpenID issuer.
    pub public_url: url::Url,
    pub signing: Arc<bauhinia_identity::SigningService>,
    pub metrics: Arc<Metrics>,
    pub demo: bool,
    /// 转数快 FPS: the switch and its settlement ledger.
    pub fps: Arc<bauhinia_fps::switch::Switch>,
    /// The FPS addressing service (proxies).
    pub proxies: Arc<bauhinia_fps::proxy::ProxyService>,
    /// The participant banks whose books are kept here.
    pub banks: Arc<bauhinia_bank::Banks>,
    /// FPS webhooks: subscriptions and the delivery worker.
    pub webhooks: Arc<bauhinia_fps::webhooks::Webhooks>,
    /// FPS requests to pay, mandates, direct debits, returns and refunds.
    pub flows: Arc<bauhinia_fps::flows::FlowService>,
    /// The consented data exchange (CDEG, CDI, IADS): directory, consents, keys, audit chain.
    pub exchange: Arc<bauhinia_exchange::Exchange>,
    /// The owner's pages of the exchange (`/exchange`): the portal as a relying party of the
    /// OpenID Provider, and its sessions.
    pub exchange_portal: bauhinia_web::exchange::ExchangePortalState,
    /// 開放數據 Open data: the catalogue behind the CKAN-compatible Action API.
    pub opendata: Arc<bauhinia_opendata::OpenData>,
    /// 数码企业身份 CorpID: the business directory; also what the OpenID Provider asks as its
    /// `CorporateDirectory` for the `corpid` scope.
    pub corpid: Arc<bauhinia_corpid::CorpIdService>,
    /// CorpID's company signatures: the businesses' keys and certificates, signing requests
    /// approved by their signatories, and public verification.
    pub company_signing: Arc<bauhinia_corpid::signing::CompanySigning>,
}

/// The OpenAPI document and the API routes, built together so neither can lack the other.
fn api(state: &AppState) -> (Router, OpenApi) {
    let fps_state = bauhinia_fps::http::FpsState {
        switch: Arc::clone(&state.fps),
        admin: Arc::clone(&state.admin_token),
        webhooks: Arc::clone(&state.webhooks),
        flows: Arc::clone(&state.flows),
    };
    let ops = OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .with_state(state.clone());
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops)
        .merge(bauhinia_funding::http::router(Arc::clone(&state.funding)))
        .merge(bauhinia_fps::http::router(fps_state.clone()))
        .merge(bauhinia_fps::proxy::http::router(
            bauhinia_fps::proxy::http::ProxyState {
                fps: fps_state,
                proxies: Arc::clone(&state.proxies),
            },
        ))
        .merge(bauhinia_fps::qr::http::router())
        .merge(bauhinia_bank::http::router(
            bauhinia_bank::http::BanksState {
                banks: Arc::clone(&state.banks),
                admin: Arc::clone(&state.admin_token),
            },
        ))
        .merge(bauhinia_exchange::http::router(Arc::clone(&state.exchange)))
        .merge(bauhinia_exchange::gateway::http::router(
            bauhinia_exchange::gateway::http::GatewayState {
                exchange: Arc::clone(&state.exchange),
                identity: Arc::clone(&state.identity),
            },
        ))
        .merge(bauhinia_exchange::admin::router(
            bauhinia_exchange::admin::AdminState {
                exchange: Arc::clone(&state.exchange),
                token: Arc::clone(&state.admin_token),
            },
        ))
        .merge(bauhinia_identity::signing::http::router(Arc::clone(
            &state.signing,
        )))
        .merge(bauhinia_identity::oidc::admin::router(
            bauhinia_identity::oidc::admin::AdminState {
                provider: Arc::clone(&state.provider),
                token: Arc::clone(&state.admin_token),
                identity: Arc::clone(&state.identity),
                passkeys: Arc::clone(&state.passkeys),
            },
        ))
        .merge(bauhinia_identity::passkeys::http::router(Arc::clone(
            &state.passkeys,
        )))
        .merge(bauhinia_corpid::http::router(
            bauhinia_corpid::http::CorpIdState {
                corpid: Arc::clone(&state.corpid),
                identity: Arc::clone(&state.identity),
                sessions: state.sessions.clone(),
                admin: Arc::clone(&state.admin_token),
            },
        ))
        .merge(bauhinia_corpid::signing::http::public_router(Arc::clone(
            &state.company_signing,
        )))
        .merge(bauhinia_opendata::admin::router(
            bauhinia_opendata::admin::AdminState {
                opendata: Arc::clone(&state.opendata),
                token: Arc::clone(&state.admin_token),
            },
        ))
        .split_for_parts();
    // Protocol endpoints outside the OpenAPI document: OAuth's (described by discovery) and
    // CKAN's Action API (described by CKAN's documentation, answered in CKAN's shapes).
    let router = router
        .merge(bauhinia_identity::oidc::http::router(Arc::clone(
            &state.provider,
        )))
        .merge(bauhinia_opendata::http::router(Arc::clone(&state.opendata)));
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    add_openapi_path(&mut doc);
    (router, doc)
}

/// `/openapi.json` describes itself too.
fn add_openapi_path(doc: &mut OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::response::ResponseBuilder;
    use utoipa::openapi::ContentBuilder;
    let operation = OperationBuilder::new()
        .tag("operations")
        .summary(Some("This OpenAPI 3.1 document"))
        .operation_id(Some("openapi_json"))
        .response(
            "200",
            ResponseBuilder::new()
                .description("The document")
                .content("application/json", ContentBuilder::new().build())
                .build(),
        )
        .build();
    doc.paths.paths.insert(
        "/openapi.json".to_owned(),
        PathItem::new(HttpMethod::Get, operation),
    );
}

/// The OpenAPI document alone (for `bauhinia openapi` and tests).
pub fn openapi_document(state: &AppState) -> OpenApi {
    api(state).1
}

/// The limits every request is held to.
#[derive(Debug, Clone)]
pub struct Limits {
    pub body_limit_bytes: usize,
    pub rate_limit: RateLimit,
}

impl Limits {
    pub fn from_config(config: &crate::config::Config) -> Limits {
        Limits {
            body_limit_bytes: config.body_limit_bytes,
            rate_limit: RateLimit::new(config.rate_limit_per_second),
        }
    }
}

/// The whole application.
pub fn build(state: AppState, limits: Limits) -> Router {
    let (api_router, doc) = api(&state);
    let doc_json = Arc::new(serde_json::to_value(&doc).unwrap_or_default());
    // Serialised once: the document only changes with the binary.
    let doc_bytes = axum::body::Bytes::from(serde_json::to_vec(&*doc_json).unwrap_or_default());
    let portal = bauhinia_web::router(bauhinia_web::PortalState {
        funding: Arc::clone(&state.funding),
        identity: Arc::clone(&state.identity),
        passkeys: Arc::clone(&state.passkeys),
        signing: Arc::clone(&state.signing),
        company_signing: Arc::clone(&state.company_signing),
        provider: Arc::clone(&state.provider),
        openapi: doc_json,
        demo: state.demo,
        banks: Arc::clone(&state.banks),
        switch: Arc::clone(&state.fps),
        secure_cookies: state.public_url.scheme() == "https",
    });
    Router::new()
        .merge(api_router)
        .route(
            "/openapi.json",
            axum::routing::get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc_bytes.clone()) }),
        )
        .merge(portal)
        .merge(bauhinia_web::exchange::router(state.exchange_portal.clone()))
        .merge(bauhinia_web::business::router(
            bauhinia_web::business::BusinessPortalState::new(
                Arc::clone(&state.corpid),
                Arc::clone(&state.identity),
                Arc::clone(&state.company_signing),
                &state.exchange_portal,
            ),
        ))
        .merge(bauhinia_web::opendata::router(bauhinia_web::opendata::OpenDataPortalState {
            open: Arc::clone(&state.opendata),
        }))
        .merge(bauhinia_web::signin::router(bauhinia_web::signin::SignInState {
            provider: Arc::clone(&state.provider),
            sessions: state.sessions.clone(),
        }))
        .merge(bauhinia_identity::signing::requests_http::router(
            bauhinia_identity::signing::requests_http::SigningRequestsState {
                provider: Arc::clone(&state.provider),
                signing: Arc::clone(&state.signing),
            },
        ))
        .merge(bauhinia_corpid::signing::http::requests_router(
            bauhinia_corpid::signing::http::RequestsState {
                provider: Arc::clone(&state.provider),
                signing: Arc::clone(&state.company_signing),
            },
        ))
        .merge(bauhinia_web::admin::router(bauhinia_web::admin::AdminPortalState {
            provider: Arc::clone(&state.provider),
            token: Arc::clone(&state.admin_token),
            secure: state.public_url.scheme() == "https",
        }))
        .fallback(not_found)
        .layer(middleware::map_response(problem_for_bare_errors))
        .layer(middleware::from_fn_with_state(
            limits.rate_limit.exempt_participants(Arc::clone(&state.fps)),
            crate::rate_limit::limit,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        .layer(DefaultBodyLimit::max(limits.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(REQUEST_TIMEOUT_S)))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            Problem::internal(&"a request handler panicked").into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
                })
                // One line per answered request, at INFO, inside the span that carries its id.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let response = next.run(request).await;
    state
        .metrics
        .observe(&method, &route, response.status(), started.elapsed());
    response
}

/// Errors that axum or tower produce with an empty body (405, 408, 413) become problems.
async fn problem_for_bare_errors(response: Response) -> Response {
    if response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let code = match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::BodyTooLarge,
        _ => return response,
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut problem = Problem::new(code).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    problem
}

/// API paths get a problem; everything else the portal's 404 page.
async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if path.starts_with("/api/") || !wants_html {
        return Problem::new(ErrorCode::NotFound)
            .detail(format!("no resource at {path}"))
            .into_response();
    }
    bauhinia_web::not_found_page(
        bauhinia_web::Prefs::from_headers(request.headers()),
        request.uri(),
    )
}

#[derive(Debug, Serialize, ToSchema)]
struct Health {
    status: &'static str,
}

/// Liveness: the process is up and answering.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Health),
    (status = 503, description = "Not ready", body = ProblemDocument, content_type = "application/problem+json")))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    state.db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        Problem::new(ErrorCode::StoreUnavailable)
    })?;
    Ok(Json(Health { status: "ready" }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    let stats = state.fps.ledger().stats();
    let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    state.metrics.ledger_batches.set(gauge(stats.batches));
    state.metrics.ledger_transfers.set(gauge(stats.transfers));
    let body = state.metrics.encode();
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
