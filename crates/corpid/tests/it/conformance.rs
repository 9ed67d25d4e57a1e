//! One suite on both dialects: registration and bulk import (all or nothing), the rules of
//! roles (only administrators change, one role each, the last administrator stays), refusals
//! that change nothing, delegations in and out of force, status moves, licences, the signing
//! policy, the login lookup, and an audit event for every change.

use std::sync::Arc;

use bauhinia_core::crypto::{MasterKey, Vault};
use bauhinia_corpid::domain::{
    AccessRefusal, Brn, BusinessDraft, DelegationTerms, LicenceDraft, Role, SignatoriesRequired,
    StatusChange,
};
use bauhinia_corpid::{Caller, CorpIdError, CorpIdService};
use bauhinia_identity::corporate::CorporateDirectory;
use bauhinia_identity::IdentityService;
use bauhinia_store::testing::TestDb;
use bauhinia_store::Database;

const T0: i64 = 1_795_000_000;

fn brn(text: &str) -> Brn {
    Brn::parse(text).unwrap()
}

fn draft(brn: &str, name: &str) -> BusinessDraft {
    BusinessDraft {
        brn: brn.into(),
        form: "private_limited_by_shares".into(),
        name_en: name.into(),
        name_zh: Some("測試有限公司".into()),
        address: vec!["1 Queen's Road Central".into(), "Central, Hong Kong".into()],
        registered_on: "2020-01-02".into(),
        directors: vec![],
    }
}

async fn count(db: &Database, sql: &str) -> i64 {
    match db {
        Database::Sqlite(db) => sqlx::query_scalar(sql).fetch_one(&db.reader).await.unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

/// Every row of the directory's tables and the audit log's successes, counted: a refusal
/// leaves it equal (and, when the rules refuse, appends a failure: see `refusals`).
async fn footprint(db: &Database) -> [i64; 5] {
    [
        count(db, "SELECT COUNT(*) FROM corpid_businesses").await,
        count(db, "SELECT COUNT(*) FROM corpid_representatives").await,
        count(
            db,
            "SELECT COUNT(*) FROM corpid_delegations WHERE revoked_at_s IS NULL",
        )
        .await,
        count(db, "SELECT COUNT(*) FROM corpid_licences").await,
        count(
            db,
            "SELECT COUNT(*) FROM audit_events WHERE outcome = 'success'",
        )
        .await,
    ]
}

/// The audit log's failures: (actor, action, reason), oldest first.
async fn refusals(db: &Database) -> Vec<(String, String, String)> {
    let sql =
        "SELECT actor, action, CAST(detail AS TEXT) FROM audit_events WHERE outcome = 'failure' \
               AND action LIKE 'corpid.%' ORDER BY seq";
    let rows: Vec<(String, String, String)> = match db {
        Database::Sqlite(db) => sqlx::query_as(sql).fetch_all(&db.reader).await.unwrap(),
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    };
    rows.into_iter()
        .map(|(actor, action, detail)| {
            let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
            (actor, action, detail["reason"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn roles(
    list: &[bauhinia_identity::corporate::Representation],
) -> Vec<(String, String, Option<String>)> {
    list.iter()
        .map(|r| (r.brn.clone(), r.role.clone(), r.via_agent_brn.clone()))
        .collect()
}

fn triple(brn: &str, role: &str, via: Option<&str>) -> (String, String, Option<String>) {
    (brn.into(), role.into(), via.map(str::to_owned))
}

async fn suite(db: &Database) {
    let vault = Arc::new(Vault::new(&MasterKey::generate()));
    let identity = IdentityService::new(db, vault);
    let today = time::Date::from_calendar_date(2026, time::Month::November, 24).unwrap();
    let mut ids = Vec::new();
    for resident in bauhinia_identity::demo::residents() {
        ids.push(
            identity
                .register(&resident, "system:test", today)
                .await
                .unwrap()
                .id,
        );
    }
    let [chan, wong, lee, cheung, _smith] = <[String; 5]>::try_from(ids).unwrap();
    let service = CorpIdService::new(db);
    let operator = Caller::Operator("admin".into());
    let as_chan = Caller::Resident(chan.clone());
    let as_wong = Caller::Resident(wong.clone());
    let as_lee = Caller::Resident(lee.clone());
    let (x, z) = (brn("11111111"), brn("33333333"));

    // Registration with the first administrator; a BRN once only; an unknown resident refused.
    let business = service
        .register(
            &draft("11111111", "Harbour Lights Trading Limited"),
            &chan,
            &operator,
            T0,
        )
        .await
        .unwrap();
    assert_eq!(business.brn, x);
    let before = footprint(db).await;
    assert!(matches!(
        service
            .register(&draft(" 11111111 ", "Another Limited"), &lee, &operator, T0)
            .await,
        Err(CorpIdError::BusinessExists)
    ));
    assert!(matches!(
        service
            .register(
                &draft("11111112", "Another Limited"),
                "no-such-resident",
                &operator,
                T0
            )
            .await,
        Err(CorpIdError::ResidentNotFound)
    ));
    assert!(matches!(
        service.register(&draft("1111", "Another Limited"), &lee, &operator, T0).await,
        Err(CorpIdError::Invalid(f)) if f[0].field == "/brn"
    ));
    assert_eq!(footprint(db).await, before, "refusals write nothing");

    // Roles: the administrator grants; a user cannot; one role each.
    service
        .grant(&x, &wong, Role::User, &as_chan, T0)
        .await
        .unwrap();
    let before = footprint(db).await;
    assert!(matches!(
        service.grant(&x, &lee, Role::User, &as_wong, T0).await,
        Err(CorpIdError::Access(AccessRefusal::NotAdministrator))
    ));
    assert!(matches!(
        service.grant(&x, &lee, Role::User, &as_lee, T0).await,
        Err(CorpIdError::Access(AccessRefusal::NotAdministrator))
    ));
    assert!(matches!(
        service
            .grant(&x, &wong, Role::Administrator, &as_chan, T0)
            .await,
        Err(CorpIdError::Access(AccessRefusal::RoleExists))
    ));
    // The last administrator can neither be revoked nor downgraded.
    assert!(matches!(
        service.revoke(&x, &chan, &as_chan, T0).await,
        Err(CorpIdError::Access(AccessRefusal::LastAdministrator))
    ));
    assert!(matches!(
        service
            .change_role(&x, &chan, Role::User, &as_chan, T0)
            .await,
        Err(CorpIdError::Access(AccessRefusal::LastAdministrator))
    ));
    assert_eq!(footprint(db).await, before, "refusals write nothing");
    // … but each refusal by the rules is audited, with who was refused and why.
    let refused = |who: &Caller, action: &str, reason: &str| {
        (who.actor(), action.to_owned(), reason.to_owned())
    };
    assert_eq!(
        refusals(db).await,
        [
            refused(&as_wong, "corpid.role.grant", "not_administrator"),
            refused(&as_lee, "corpid.role.grant", "not_administrator"),
            refused(&as_chan, "corpid.role.grant", "role_exists"),
            refused(&as_chan, "corpid.role.revoke", "last_administrator"),
            refused(&as_chan, "corpid.role.change", "last_administrator"),
        ]
    );
    assert_eq!(
        roles(&service.representations(&wong, T0).await.unwrap()),
        [triple("11111111", "user", None)]
    );

    // Two administrators revoking each other at once: one wins, one administrator is left.
    service
        .change_role(&x, &wong, Role::Administrator, &as_chan, T0)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        service.revoke(&x, &wong, &as_chan, T0),
        service.revoke(&x, &chan, &as_wong, T0)
    );
    assert!(
        a.is_ok() != b.is_ok(),
        "exactly one revocation passes: {a:?} {b:?}"
    );
    let admins = service
        .representatives(&business.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.role == "administrator")
        .count();
    assert_eq!(admins, 1);
    // Put back CHAN as the administrator and WONG as a user, whoever won.
    let winner = if a.is_ok() {
        as_chan.clone()
    } else {
        as_wong.clone()
    };
    let loser = if a.is_ok() { &wong } else { &chan };
    service
        .grant(&x, loser, Role::Administrator, &winner, T0)
        .await
        .unwrap();
    service
        .change_role(&x, &wong, Role::User, &as_chan, T0)
        .await
        .unwrap();

    // Delegations: Z acts for X while in force, through its administrators and signatories only.
    service
        .register(
            &draft("33333333", "Lee and Partners Limited"),
            &lee,
            &operator,
            T0,
        )
        .await
        .unwrap();
    service
        .grant(&z, &cheung, Role::User, &as_lee, T0)
        .await
        .unwrap();
    let terms = DelegationTerms::new(Some(Role::AuthorisedSignatory), T0, T0 + 1_000, T0).unwrap();
    assert!(matches!(
        service
            .create_delegation(&x, &z, &terms, &as_wong, T0)
            .await,
        Err(CorpIdError::Access(AccessRefusal::NotAdministrator))
    ));
    assert!(matches!(
        service.create_delegation(&x, &x, &terms, &as_chan, T0).await,
        Err(CorpIdError::Invalid(f)) if f[0].field == "/agent_brn"
    ));
    let delegation = service
        .create_delegation(&x, &z, &terms, &as_chan, T0)
        .await
        .unwrap();
    assert!(matches!(
        service
            .create_delegation(&x, &z, &terms, &as_chan, T0 + 1)
            .await,
        Err(CorpIdError::DelegationExists)
    ));
    let at = |t| service.representations(&lee, t);
    assert_eq!(
        roles(&at(T0 + 10).await.unwrap()),
        [
            triple("11111111", "authorised_signatory", Some("33333333")),
            triple("33333333", "administrator", None)
        ]
    );
    assert_eq!(at(T0 + 10).await.unwrap()[0].valid_until, Some(T0 + 1_000));
    assert_eq!(
        roles(&at(T0 - 1).await.unwrap()),
        [triple("33333333", "administrator", None)]
    );
    assert_eq!(
        roles(&at(T0 + 1_000).await.unwrap()),
        [triple("33333333", "administrator", None)]
    );
    assert_eq!(
        roles(&service.representations(&cheung, T0 + 10).await.unwrap()),
        [triple("33333333", "user", None)],
        "a user of the agent does not act for its clients"
    );
    let x_id = business.id.clone();
    assert!(service
        .representation(&lee, &x_id, T0 + 10)
        .await
        .unwrap()
        .is_some());
    assert!(service
        .representation(&lee, &x_id, T0 + 2_000)
        .await
        .unwrap()
        .is_none());
    let listed = service.delegations(&x_id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].agent_brn, "33333333");
    service
        .revoke_delegation(&x, &delegation, &as_chan, T0 + 20)
        .await
        .unwrap();
    assert!(matches!(
        service
            .revoke_delegation(&x, &delegation, &as_chan, T0 + 21)
            .await,
        Err(CorpIdError::DelegationState)
    ));
    assert_eq!(
        roles(&at(T0 + 10).await.unwrap()),
        [triple("33333333", "administrator", None)]
    );

    // A revoked representative disappears from the login lookup.
    service.revoke(&x, &wong, &as_chan, T0).await.unwrap();
    assert!(service.representations(&wong, T0).await.unwrap().is_empty());

    // Status: a suspended business yields no representations and takes no resident's change.
    service
        .change_status(&x, StatusChange::Suspend, Some("test"), &operator, T0)
        .await
        .unwrap();
    assert!(service.representations(&chan, T0).await.unwrap().is_empty());
    assert!(matches!(
        service.grant(&x, &wong, Role::User, &as_chan, T0).await,
        Err(CorpIdError::Access(AccessRefusal::NotActive))
    ));
    assert!(matches!(
        service.change_status(&x, StatusChange::Suspend, None, &operator, T0).await,
        Err(CorpIdError::BusinessState(s)) if s == "suspended"
    ));
    service
        .change_status(&x, StatusChange::Reactivate, None, &operator, T0)
        .await
        .unwrap();
    assert_eq!(
        roles(&service.representations(&chan, T0).await.unwrap()),
        [triple("11111111", "administrator", None)]
    );

    // Signing policy and licences.
    service
        .set_signing_policy(&x, SignatoriesRequired::new(2).unwrap(), &as_chan, T0)
        .await
        .unwrap();
    assert_eq!(service.business(&x).await.unwrap().signatories_required, 2);
    let licence = LicenceDraft {
        licence_type: "General Restaurant Licence".into(),
        number: "2123456789".into(),
        issuer: "Food and Environmental Hygiene Department".into(),
        valid_from: "2025-04-01".into(),
        valid_until: Some("2026-03-31".into()),
        status: "valid".into(),
        shared: true,
    };
    let licence_id = service
        .add_licence(&x, &licence, &as_chan, T0)
        .await
        .unwrap();
    assert!(matches!(
        service.add_licence(&x, &licence, &as_chan, T0).await,
        Err(CorpIdError::LicenceExists)
    ));
    assert!(matches!(
        service.add_licence(&x, &licence, &as_lee, T0).await,
        Err(CorpIdError::Access(AccessRefusal::NotAdministrator))
    ));
    let renewed = LicenceDraft {
        valid_until: Some("2027-03-31".into()),
        ..licence.clone()
    };
    service
        .update_licence(&x, &licence_id, &renewed, &as_chan, T0)
        .await
        .unwrap();
    assert_eq!(
        service.licences(&x_id).await.unwrap()[0]
            .valid_until
            .as_deref(),
        Some("2027-03-31")
    );
    // Only what the business marked shared goes to a service, whichever way it was marked.
    let kept = LicenceDraft {
        number: "KEPT-0001".into(),
        valid_from: "2024-01-01".into(),
        shared: false,
        ..licence.clone()
    };
    let kept_id = service.add_licence(&x, &kept, &as_chan, T0).await.unwrap();
    let shared: Vec<String> = CorporateDirectory::shared_licences(&service, "11111111")
        .await
        .unwrap()
        .into_iter()
        .map(|l| format!("{} {} {:?}", l.number, l.valid_from, l.valid_until))
        .collect();
    assert_eq!(shared, ["2123456789 2025-04-01 Some(\"2027-03-31\")"]);
    service
        .update_licence(
            &x,
            &kept_id,
            &LicenceDraft {
                shared: true,
                ..kept.clone()
            },
            &as_chan,
            T0,
        )
        .await
        .unwrap();
    let numbers: Vec<String> = service
        .shared_licences("11111111")
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.number)
        .collect();
    assert_eq!(numbers, ["KEPT-0001", "2123456789"], "ordered by validity");
    service
        .update_licence(
            &x,
            &licence_id,
            &LicenceDraft {
                shared: false,
                ..renewed.clone()
            },
            &as_chan,
            T0,
        )
        .await
        .unwrap();
    assert_eq!(service.shared_licences("11111111").await.unwrap().len(), 1);
    assert!(service
        .shared_licences("99999999")
        .await
        .unwrap()
        .is_empty());
    assert!(service
        .shared_licences("not a brn")
        .await
        .unwrap()
        .is_empty());
    service
        .remove_licence(&x, &kept_id, &as_chan)
        .await
        .unwrap();
    // The particulars: what the register says, directors by name only.
    let particulars = CorporateDirectory::particulars(&service, "11111111")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(particulars.business_id, x_id);
    assert_eq!(particulars.form, "private_limited_by_shares");
    assert_eq!(particulars.status, "active");
    assert_eq!(particulars.registered_on, "2020-01-02");
    assert_eq!(particulars.address.len(), 2);
    assert!(service.particulars("99999999").await.unwrap().is_none());
    assert!(service.particulars("1234").await.unwrap().is_none());
    assert!(matches!(
        service
            .update_licence(&z, &licence_id, &renewed, &as_lee, T0)
            .await,
        Err(CorpIdError::LicenceNotFound)
    ));
    service
        .remove_licence(&x, &licence_id, &as_chan)
        .await
        .unwrap();
    assert!(service.licences(&x_id).await.unwrap().is_empty());
    let all_refused = refusals(db).await;
    for expected in [
        refused(&as_wong, "corpid.delegation.create", "not_administrator"),
        refused(&as_lee, "corpid.licence.add", "not_administrator"),
    ] {
        assert!(all_refused.contains(&expected), "{all_refused:?}");
    }

    // Dissolution is final.
    service
        .change_status(&x, StatusChange::Dissolve, None, &operator, T0)
        .await
        .unwrap();
    assert!(matches!(
        service
            .change_status(&x, StatusChange::Reactivate, None, &operator, T0)
            .await,
        Err(CorpIdError::BusinessState(_))
    ));
    assert!(service.representations(&chan, T0).await.unwrap().is_empty());

    // Every change left its audit event, in order.
    let actions: Vec<String> = db
        .audit_for_subject(&format!("business:{x_id}"), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.outcome == "success")
        .map(|r| r.action)
        .collect();
    let expected_tail = [
        "corpid.delegation.create",
        "corpid.delegation.revoke",
        "corpid.role.revoke",
        "corpid.business.suspend",
        "corpid.business.reactivate",
        "corpid.signing_policy.set",
        "corpid.licence.add",
        "corpid.licence.update",
        "corpid.licence.add",
        "corpid.licence.update",
        "corpid.licence.update",
        "corpid.licence.remove",
        "corpid.licence.remove",
        "corpid.business.dissolve",
    ];
    assert_eq!(
        actions.first().map(String::as_str),
        Some("corpid.business.register")
    );
    assert!(
        actions.ends_with(&expected_tail.map(str::to_owned)),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .filter(|a| a.starts_with("corpid.role."))
            .count()
            >= 6,
        "{actions:?}"
    );

    // Bulk import: all or nothing per chunk; each business needs an administrator.
    let before = footprint(db).await;
    let batch = |brns: &[&str]| -> Vec<(BusinessDraft, Vec<(String, Role)>)> {
        brns.iter()
            .map(|b| {
                (
                    draft(b, "Imported Trading Limited"),
                    vec![(cheung.clone(), Role::Administrator)],
                )
            })
            .collect()
    };
    let refused = service
        .import(&batch(&["50000001", "50000002", "33333333"]), &operator, T0)
        .await;
    assert!(
        matches!(refused, Err(CorpIdError::Import { committed: 0, .. })),
        "{refused:?}"
    );
    let refused = service
        .import(
            &[(
                draft("50000003", "Imported Trading Limited"),
                vec![(cheung.clone(), Role::User)],
            )],
            &operator,
            T0,
        )
        .await;
    assert!(matches!(
        refused,
        Err(CorpIdError::Import { committed: 0, .. })
    ));
    assert_eq!(
        footprint(db).await,
        before,
        "a refused chunk writes nothing"
    );
    assert_eq!(
        service
            .import(&batch(&["50000001", "50000002"]), &operator, T0)
            .await
            .unwrap(),
        2
    );
    let cheung_now = roles(&service.representations(&cheung, T0).await.unwrap());
    assert_eq!(
        cheung_now,
        [
            triple("33333333", "user", None),
            triple("50000001", "administrator", None),
            triple("50000002", "administrator", None)
        ]
    );
}

#[tokio::test]
async fn conformance_on_sqlite() {
    let test = TestDb::sqlite().await.unwrap();
    suite(&test.db).await;
    test.cleanup().await.unwrap();
}

#[tokio::test]
async fn conformance_on_postgres() {
    let Some(test) = TestDb::postgres().await.unwrap() else {
        eprintln!("DATABASE_URL not set: the PostgreSQL half is run by scripts/test");
        return;
    };
    suite(&test.db).await;
    test.cleanup().await.unwrap();
}

/// The login lookup uses the index by resident, not a scan of 1.8 million businesses.
#[tokio::test]
async fn the_login_lookup_uses_the_resident_index() {
    let test = TestDb::sqlite().await.unwrap();
    let Database::Sqlite(db) = &test.db else {
        panic!("sqlite")
    };
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT b.id FROM corpid_representatives r JOIN corpid_businesses b ON b.id = r.business_id \
         WHERE r.resident_id = 'x' AND b.status = 'active'",
    )
    .fetch_all(&db.reader)
    .await
    .unwrap();
    let text: Vec<String> = plan.into_iter().map(|p| p.3).collect();
    assert!(
        text.iter()
            .any(|l| l.contains("corpid_representatives_by_resident")),
        "{text:?}"
    );
    assert!(!text.iter().any(|l| l.starts_with("SCAN")), "{text:?}");
    test.cleanup().await.unwrap();
}
