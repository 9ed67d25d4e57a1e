//! Data products: each kind of data the exchange can carry, with its names in three languages,
//! the system it belongs to (CDEG, CDI, IADS) and the JSON Schema (draft 2020-12) its payload
//! follows. The catalogue is fixed in code — a new product is a release, not a registration —
//! and the schemas are files under `schemas/`, embedded at build time. Which participants
//! provide a product is the directory's business (`exchange_product_providers`).
//!
//! This module owns no I/O.

use bauhinia_core::Localized;
use serde::Serialize;

/// The three systems that move data under consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum System {
    /// 授權數據交換閘 Consented Data Exchange Gateway: government data to financial institutions.
    #[serde(rename = "CDEG")]
    Cdeg,
    /// 商業數據通 Commercial Data Interchange: SMEs' commercial data to banks.
    #[serde(rename = "CDI")]
    Cdi,
    /// 戶口互聯 Interbank Account Data Sharing: one bank's account data to another.
    #[serde(rename = "IADS")]
    Iads,
}

impl System {
    pub const fn as_str(self) -> &'static str {
        match self {
            System::Cdeg => "CDEG",
            System::Cdi => "CDI",
            System::Iads => "IADS",
        }
    }
}

/// Every data product, by its stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ProductId {
    #[serde(rename = "cdeg.company_particulars")]
    CompanyParticulars,
    #[serde(rename = "cdeg.business_registration")]
    BusinessRegistration,
    #[serde(rename = "cdi.ecommerce_sales")]
    EcommerceSales,
    #[serde(rename = "cdi.trade_declarations")]
    TradeDeclarations,
    #[serde(rename = "cdi.merchant_receipts")]
    MerchantReceipts,
    #[serde(rename = "cdi.credit_reference")]
    CreditReference,
    #[serde(rename = "iads.account_availability")]
    AccountAvailability,
    #[serde(rename = "iads.account_status")]
    AccountStatus,
    #[serde(rename = "iads.balance")]
    Balance,
    #[serde(rename = "iads.transactions")]
    Transactions,
}

impl ProductId {
    pub const ALL: [ProductId; 10] = [
        ProductId::CompanyParticulars,
        ProductId::BusinessRegistration,
        ProductId::EcommerceSales,
        ProductId::TradeDeclarations,
        ProductId::MerchantReceipts,
        ProductId::CreditReference,
        ProductId::AccountAvailability,
        ProductId::AccountStatus,
        ProductId::Balance,
        ProductId::Transactions,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ProductId::CompanyParticulars => "cdeg.company_particulars",
            ProductId::BusinessRegistration => "cdeg.business_registration",
            ProductId::EcommerceSales => "cdi.ecommerce_sales",
            ProductId::TradeDeclarations => "cdi.trade_declarations",
            ProductId::MerchantReceipts => "cdi.merchant_receipts",
            ProductId::CreditReference => "cdi.credit_reference",
            ProductId::AccountAvailability => "iads.account_availability",
            ProductId::AccountStatus => "iads.account_status",
            ProductId::Balance => "iads.balance",
            ProductId::Transactions => "iads.transactions",
        }
    }

    pub fn parse(text: &str) -> Option<ProductId> {
        ProductId::ALL.into_iter().find(|p| p.as_str() == text)
    }

    pub const fn system(self) -> System {
        match self {
            ProductId::CompanyParticulars | ProductId::BusinessRegistration => System::Cdeg,
            ProductId::EcommerceSales
            | ProductId::TradeDeclarations
            | ProductId::MerchantReceipts
            | ProductId::CreditReference => System::Cdi,
            ProductId::AccountAvailability
            | ProductId::AccountStatus
            | ProductId::Balance
            | ProductId::Transactions => System::Iads,
        }
    }

    /// The product's JSON Schema (draft 2020-12), as published.
    pub const fn schema(self) -> &'static str {
        match self {
            ProductId::CompanyParticulars => {
                include_str!("../schemas/cdeg.company_particulars.schema.json")
            }
            ProductId::BusinessRegistration => {
                include_str!("../schemas/cdeg.business_registration.schema.json")
            }
            ProductId::EcommerceSales => include_str!("../schemas/cdi.ecommerce_sales.schema.json"),
            ProductId::TradeDeclarations => {
                include_str!("../schemas/cdi.trade_declarations.schema.json")
            }
            ProductId::MerchantReceipts => {
                include_str!("../schemas/cdi.merchant_receipts.schema.json")
            }
            ProductId::CreditReference => {
                include_str!("../schemas/cdi.credit_reference.schema.json")
            }
            ProductId::AccountAvailability => {
                include_str!("../schemas/iads.account_availability.schema.json")
            }
            ProductId::AccountStatus => include_str!("../schemas/iads.account_status.schema.json"),
            ProductId::Balance => include_str!("../schemas/iads.balance.schema.json"),
            ProductId::Transactions => include_str!("../schemas/iads.transactions.schema.json"),
        }
    }

    /// (English, 繁體中文, 简体中文)
    const fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            ProductId::CompanyParticulars => (
                "Company particulars and directors (Companies Registry)",
                "公司詳情及董事資料（公司註冊處）",
                "公司详情及董事资料（公司注册处）",
            ),
            ProductId::BusinessRegistration => {
                ("Business registration", "商業登記資料", "商业登记资料")
            }
            ProductId::EcommerceSales => {
                ("E-commerce sales", "電子商貿銷售數據", "电子商贸销售数据")
            }
            ProductId::TradeDeclarations => ("Trade declarations", "貿易報關資料", "贸易报关资料"),
            ProductId::MerchantReceipts => (
                "FPS and merchant receipts",
                "轉數快及商戶收款紀錄",
                "转数快及商户收款纪录",
            ),
            ProductId::CreditReference => {
                ("Credit reference report", "信貸資料報告", "信贷资料报告")
            }
            ProductId::AccountAvailability => (
                "Deposit account availability",
                "存款戶口是否存在",
                "存款账户是否存在",
            ),
            ProductId::AccountStatus => ("Deposit account status", "存款戶口狀況", "存款账户状况"),
            ProductId::Balance => ("Deposit account balance", "存款戶口結餘", "存款账户结余"),
            ProductId::Transactions => (
                "Deposit account transactions",
                "存款戶口交易紀錄",
                "存款账户交易纪录",
            ),
        }
    }

    pub fn name(self) -> Localized {
        let (en, zh_hant, zh_hans) = self.names();
        Localized {
            zh_hant: zh_hant.to_owned(),
            zh_hans: zh_hans.to_owned(),
            en: en.to_owned(),
        }
    }

    /// The product as listed: everything but its providers.
    pub fn product(self) -> Product {
        Product {
            id: self,
            system: self.system(),
            name: self.name(),
            schema: self.schema(),
        }
    }
}

impl std::fmt::Display for ProductId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data product as the public listing shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub id: ProductId,
    pub system: System,
    pub name: Localized,
    /// The JSON Schema text.
    #[serde(skip)]
    pub schema: &'static str,
}

/// A product with the ids of the participants that provide it (active or not: the caller
/// decides whether a suspended provider is shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedProduct {
    #[serde(flatten)]
    pub product: Product,
    pub providers: Vec<String>,
}

/// Every product, in catalogue order.
pub fn catalogue() -> Vec<Product> {
    ProductId::ALL.into_iter().map(ProductId::product).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_schemas_are_json_naming_their_product() -> Result<(), String> {
        for id in ProductId::ALL {
            assert_eq!(ProductId::parse(id.as_str()), Some(id));
            let schema: serde_json::Value =
                serde_json::from_str(id.schema()).map_err(|e| format!("{id}: {e}"))?;
            assert_eq!(
                schema.get("$schema").and_then(|v| v.as_str()),
                Some("https://json-schema.org/draft/2020-12/schema"),
                "{id}"
            );
            let expected_id =
                format!("https://schemas.bauhinia.example.invalid/exchange/{id}.json");
            assert_eq!(
                schema.get("$id").and_then(|v| v.as_str()),
                Some(expected_id.as_str())
            );
            assert!(id
                .as_str()
                .starts_with(&id.system().as_str().to_ascii_lowercase()));
        }
        assert_eq!(ProductId::parse("iads.everything"), None);
        Ok(())
    }
}
