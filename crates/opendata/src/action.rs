//! The Action API's outside input: which action is asked for, and its parameters — from a GET's
//! query string (a repeated key becomes a list, as CKAN's `mixed`) or a POST's JSON object —
//! parsed into one typed argument struct per action. Parameters an action does not use are
//! tolerated (ckanapi sends some); a bad value of one it uses is a fault naming the parameter.

use std::collections::BTreeMap;

use bauhinia_core::FieldError;
use serde_json::Value;

/// `package_list` answers at most this many names at once.
pub const PACKAGE_LIST_MAX: u32 = 200_000;
/// CKAN's `ckan.group_and_organization_list_max`.
pub const GROUP_LIST_MAX: u32 = 1_000;
/// CKAN's `ckan.group_and_organization_list_all_fields_max`.
pub const GROUP_LIST_ALL_FIELDS_MAX: u32 = 25;
/// At most this many parameters are read from one request.
pub const PARAMS_MAX: usize = 100;

/// The actions this server answers. Any other name is "not known", CKAN's way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    PackageList,
    PackageShow,
    OrganizationList,
    OrganizationShow,
    GroupList,
    GroupShow,
    TagList,
    StatusShow,
    HelpShow,
    DatastoreSearch,
    DatastoreInfo,
    PackageCreate,
    PackageUpdate,
    PackagePatch,
    PackageDelete,
    ResourceShow,
    ResourceCreate,
    ResourceUpdate,
    ResourcePatch,
    ResourceDelete,
    OrganizationCreate,
    PackageSearch,
}

impl Action {
    pub const ALL: [Action; 22] = [
        Action::PackageList,
        Action::PackageShow,
        Action::OrganizationList,
        Action::OrganizationShow,
        Action::GroupList,
        Action::GroupShow,
        Action::TagList,
        Action::StatusShow,
        Action::HelpShow,
        Action::DatastoreSearch,
        Action::DatastoreInfo,
        Action::PackageCreate,
        Action::PackageUpdate,
        Action::PackagePatch,
        Action::PackageDelete,
        Action::ResourceShow,
        Action::ResourceCreate,
        Action::ResourceUpdate,
        Action::ResourcePatch,
        Action::ResourceDelete,
        Action::OrganizationCreate,
        Action::PackageSearch,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Action::PackageList => "package_list",
            Action::PackageShow => "package_show",
            Action::OrganizationList => "organization_list",
            Action::OrganizationShow => "organization_show",
            Action::GroupList => "group_list",
            Action::GroupShow => "group_show",
            Action::TagList => "tag_list",
            Action::StatusShow => "status_show",
            Action::HelpShow => "help_show",
            Action::DatastoreSearch => "datastore_search",
            Action::DatastoreInfo => "datastore_info",
            Action::PackageCreate => "package_create",
            Action::PackageUpdate => "package_update",
            Action::PackagePatch => "package_patch",
            Action::PackageDelete => "package_delete",
            Action::ResourceShow => "resource_show",
            Action::ResourceCreate => "resource_create",
            Action::ResourceUpdate => "resource_update",
            Action::ResourcePatch => "resource_patch",
            Action::ResourceDelete => "resource_delete",
            Action::OrganizationCreate => "organization_create",
            Action::PackageSearch => "package_search",
        }
    }

    /// Whether the action changes the catalogue: POST only, with a publisher's token.
    pub const fn is_write(self) -> bool {
        matches!(
            self,
            Action::PackageCreate
                | Action::PackageUpdate
                | Action::PackagePatch
                | Action::PackageDelete
                | Action::ResourceCreate
                | Action::ResourceUpdate
                | Action::ResourcePatch
                | Action::ResourceDelete
                | Action::OrganizationCreate
        )
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The action's documentation, which `help_show` returns (CKAN returns the docstring).
    pub const fn help(self) -> &'static str {
        match self {
            Action::PackageList => "Return a list of the names of the site's datasets (packages).\n\n:param limit: if given, the list of datasets will be broken into pages of at most ``limit`` datasets per page and only one page will be returned at a time (optional)\n:type limit: int\n:param offset: when ``limit`` is given, the offset to start returning packages from\n:type offset: int\n\n:rtype: list of strings\n",
            Action::PackageShow => "Return the metadata of a dataset (package) and its resources.\n\n:param id: the id or name of the dataset\n:type id: string\n\n:rtype: dictionary\n",
            Action::OrganizationList => "Return a list of the names of the site's organizations (data providers).\n\n:param sort: sorting of the results: 'name', 'title' or 'package_count', then 'asc' or 'desc' (optional, default: 'title asc')\n:type sort: string\n:param limit: the maximum number of organizations returned (optional, at most 1000, or 25 with all_fields)\n:type limit: int\n:param offset: when ``limit`` is given, the offset to start returning organizations from\n:type offset: int\n:param all_fields: return group dictionaries instead of just names (optional, default: ``False``)\n:type all_fields: bool\n\n:rtype: list of strings\n",
            Action::OrganizationShow => "Return the details of an organization (data provider).\n\n:param id: the id or name of the organization\n:type id: string\n:param include_datasets: include a truncated list of the organization's datasets (optional, default: ``False``)\n:type include_datasets: bool\n\n:rtype: dictionary\n",
            Action::GroupList => "Return a list of the names of the site's groups (DATA.GOV.HK's 19 categories).\n\n:param sort: sorting of the results: 'name', 'title' or 'package_count', then 'asc' or 'desc' (optional, default: 'title asc')\n:type sort: string\n:param limit: the maximum number of groups returned (optional, at most 1000, or 25 with all_fields)\n:type limit: int\n:param offset: when ``limit`` is given, the offset to start returning groups from\n:type offset: int\n:param all_fields: return group dictionaries instead of just names (optional, default: ``False``)\n:type all_fields: bool\n\n:rtype: list of strings\n",
            Action::GroupShow => "Return the details of a group (category).\n\n:param id: the id or name of the group\n:type id: string\n:param include_datasets: include a truncated list of the group's datasets (optional, default: ``False``)\n:type include_datasets: bool\n\n:rtype: dictionary\n",
            Action::TagList => "Return a list of the site's tags.\n\n:param query: a tag name query to search for; only tags whose names contain this string are returned (optional)\n:type query: string\n:param all_fields: return full tag dictionaries instead of just names (optional, default: ``False``)\n:type all_fields: bool\n\n:rtype: list of strings\n",
            Action::StatusShow => "Return a dictionary with information about the site's configuration.\n\n:rtype: dictionary\n",
            Action::DatastoreSearch => "Search a DataStore resource: the rows of a tabular (CSV or JSON) resource, typed by its data dictionary.\n\n:param resource_id: id of the resource to be searched against\n:type resource_id: string\n:param filters: matching conditions to select, e.g {\"key1\": \"a\", \"key2\": \"b\"}; a list of values matches any of them (optional)\n:type filters: dictionary\n:param q: text to search for in every field (a string), or per field (a dictionary) (optional)\n:type q: string or dictionary\n:param fields: fields to return, a list or a comma-separated string (optional, default: all fields)\n:type fields: list or comma separated string\n:param sort: comma separated field names with ordering, e.g.: \"fieldname1, fieldname2 desc\" (optional)\n:type sort: string\n:param limit: maximum number of rows to return (optional, default: 100, upper limit: 32000)\n:type limit: int\n:param offset: offset this number of rows (optional)\n:type offset: int\n:param include_total: True to return total matching record count (optional, default: true)\n:type include_total: bool\n:param records_format: the format for the records return value: 'objects' (default) or 'lists'\n:type records_format: controlled list\n\n:returns: a dictionary with fields, records, total and _links\n:rtype: dictionary\n",
            Action::DatastoreInfo => "Return the data dictionary and the row count of a DataStore resource.\n\n:param id: id of the resource\n:type id: string\n\n:rtype: dictionary\n",
            Action::PackageCreate | Action::PackageUpdate | Action::PackagePatch | Action::PackageDelete
            | Action::ResourceShow | Action::ResourceCreate | Action::ResourceUpdate | Action::ResourcePatch
            | Action::ResourceDelete | Action::OrganizationCreate => crate::http_write::help(self),
            Action::PackageSearch => "Searches for packages satisfying a given search criteria.\n\nThis action accepts solr search query parameters (details below), and returns a dictionary of results, including dictized datasets that match the search criteria, a search count and also facet information.\n\n:param q: the solr query.  Optional.  Default: ``\"*:*\"``\n:type q: string\n:param fq: any filter queries to apply.  Note: ``+site_id:{ckan_site_id}`` is added to this string prior to the query being executed.\n:type fq: string\n:param fq_list: additional filter queries to apply.\n:type fq_list: list of strings\n:param sort: sorting of the search results.  Optional.  Default: ``'score desc, metadata_modified desc'``.  As per the solr documentation, this is a comma-separated string of field names and sort-orderings.\n:type sort: string\n:param rows: the maximum number of matching rows (datasets) to return. (optional, default: ``10``, upper limit: ``1000``)\n:type rows: int\n:param start: the offset in the complete result for where the set of returned datasets should begin.\n:type start: int\n:param facet: whether to enable faceted results.  Default: ``True``.\n:type facet: string\n:param facet.mincount: the minimum counts for facet fields should be included in the results.\n:type facet.mincount: int\n:param facet.limit: the maximum number of values the facet fields return. A negative value means unlimited. Default: ``50``\n:type facet.limit: int\n:param facet.field: the fields to facet upon.  Default empty.  If empty, then the returned facet information is empty.\n:type facet.field: list of strings\n:param include_private: if ``True``, private datasets will be included in the results. Only private datasets from the user's organizations will be returned. Optional, the default is ``False``.\n:type include_private: bool\n\n:returns: a dictionary with the following keys:\n\n    :param count: the number of results found.\n    :type count: int\n    :param results: a list of datasets that matched the search criteria.\n    :type results: list of dictized datasets.\n    :param facets: DEPRECATED.  Aggregated information about facet counts.\n    :type facets: DEPRECATED dict\n    :param search_facets: aggregated information about facet counts.\n    :type search_facets: nested dict of dicts.\n\n:rtype: dictionary\n",
            Action::HelpShow => "Return the help string for a particular API action.\n\n:param name: Action function name (eg `package_create`, `group_show`)\n:type name: string\n\n:returns: The help string for the action function, or None if the function does not have a docstring.\n:rtype: string\n",
        }
    }
}

/// The parameters of one request, as CKAN's `data_dict`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(BTreeMap<String, Value>);

impl Params {
    /// From a query string: `a=1&a=2` gives `a: ["1", "2"]`, as CKAN does.
    pub fn from_query(query: &str) -> Params {
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if map.len() >= PARAMS_MAX && !map.contains_key(key.as_ref()) {
                continue;
            }
            let value = Value::String(value.into_owned());
            match map.get_mut(key.as_ref()) {
                Some(Value::Array(items)) => items.push(value),
                Some(first) => *first = Value::Array(vec![first.take(), value]),
                None => {
                    map.insert(key.into_owned(), value);
                }
            }
        }
        Params(map)
    }

    /// From a POST body: a JSON object, or nothing (no parameters). The error is CKAN's
    /// explanation after "JSON Error: ".
    pub fn from_json(body: &[u8]) -> Result<Params, String> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) if object.len() <= PARAMS_MAX => {
                Ok(Params(object.into_iter().collect()))
            }
            Ok(Value::Object(_)) => Err(format!("At most {PARAMS_MAX} parameters are read")),
            Ok(other) => Err(format!(
                "Request data JSON decoded to {} but it needs to be a dictionary.",
                kind(&other)
            )),
            Err(e) => Err(format!("Error decoding JSON data. Error: {e}")),
        }
    }

    /// Either kind of request from one byte string, for fuzzing: an even first byte makes the
    /// rest a query string, an odd one a JSON body (`None` if that is refused).
    pub fn from_tagged_bytes(data: &[u8]) -> Option<Params> {
        let (first, rest) = data.split_first()?;
        if first % 2 == 0 {
            Some(Params::from_query(&String::from_utf8_lossy(rest)))
        } else {
            Params::from_json(rest).ok()
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The parameters as CKAN's `data_dict`, for the write actions.
    pub fn to_dict(&self) -> serde_json::Map<String, Value> {
        self.0.clone().into_iter().collect()
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a dictionary",
    }
}

/// Every parameter's fault, so one answer names them all.
#[derive(Debug, Default)]
pub(crate) struct Faults(Vec<FieldError>);

impl Faults {
    pub(crate) fn take<T>(&mut self, key: &str, result: Result<T, &'static str>) -> Option<T> {
        result
            .map_err(|detail| self.0.push(FieldError::new(format!("/{key}"), detail)))
            .ok()
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// A natural number: a JSON integer or its text, at most `u32::MAX` (larger saturate).
pub fn natural(value: Option<&Value>) -> Result<Option<u32>, &'static str> {
    let parsed: Option<i128> = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<i128>().ok(),
        Some(_) => None,
    };
    match parsed {
        None => Err("Invalid integer"),
        Some(n) if n < 0 => Err("Must be a natural number"),
        Some(n) => Ok(Some(u32::try_from(n).unwrap_or(u32::MAX))),
    }
}

/// A boolean: JSON's, or the texts CKAN's `asbool` accepts.
pub fn boolean(value: Option<&Value>) -> Result<Option<bool>, &'static str> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
        Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "y" | "t" | "1" => Ok(Some(true)),
            "false" | "no" | "off" | "n" | "f" | "0" | "" => Ok(Some(false)),
            _ => Err("Invalid boolean"),
        },
        Some(_) => Err("Invalid boolean"),
    }
}

/// A text: a JSON string, or a number written as text.
pub fn string(value: Option<&Value>) -> Result<Option<String>, &'static str> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err("Must be a string"),
    }
}

fn required(value: Option<&Value>) -> Result<String, &'static str> {
    match string(value)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err("Missing value"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageListArgs {
    pub limit: u32,
    pub offset: u32,
}

impl PackageListArgs {
    pub fn parse(params: &Params) -> Result<PackageListArgs, Vec<FieldError>> {
        let mut faults = Faults::default();
        let limit = faults.take("limit", natural(params.get("limit")));
        let offset = faults.take("offset", natural(params.get("offset")));
        faults.finish(PackageListArgs {
            limit: limit
                .flatten()
                .map_or(PACKAGE_LIST_MAX, |l| l.min(PACKAGE_LIST_MAX)),
            offset: offset.flatten().unwrap_or(0),
        })
    }
}

/// `package_show`, `organization_show`, `group_show`: an id or name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowArgs {
    pub id: String,
    pub include_datasets: bool,
}

impl ShowArgs {
    pub fn parse(params: &Params) -> Result<ShowArgs, Vec<FieldError>> {
        let mut faults = Faults::default();
        let id = faults.take("id", required(params.get("id")));
        let include = faults.take("include_datasets", boolean(params.get("include_datasets")));
        faults.finish(ShowArgs {
            id: id.unwrap_or_default(),
            include_datasets: include.flatten().unwrap_or(false),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Name,
    Title,
    PackageCount,
}

/// `organization_list` and `group_list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupListArgs {
    pub all_fields: bool,
    pub sort: SortField,
    pub descending: bool,
    pub limit: u32,
    pub offset: u32,
}

fn sort(value: Option<&Value>) -> Result<(SortField, bool), &'static str> {
    let text = string(value)?.unwrap_or_default();
    let mut words = text.split_whitespace();
    let field = match words.next() {
        None | Some("title") => SortField::Title,
        Some("name") => SortField::Name,
        Some("package_count" | "packages") => SortField::PackageCount,
        Some(_) => return Err("Invalid sort: the fields are name, title and package_count"),
    };
    // As CKAN: counts alone sort the largest first; names and titles alphabetically.
    let descending = match words.next() {
        None => field == SortField::PackageCount,
        Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err("Invalid sort: the orders are asc and desc"),
    };
    if words.next().is_some() {
        return Err("Invalid sort: one field and one order");
    }
    Ok((field, descending))
}

impl GroupListArgs {
    pub fn parse(params: &Params) -> Result<GroupListArgs, Vec<FieldError>> {
        let mut faults = Faults::default();
        let all_fields = faults
            .take("all_fields", boolean(params.get("all_fields")))
            .flatten()
            .unwrap_or(false);
        let sort = faults.take("sort", sort(params.get("sort")));
        let limit = faults.take("limit", natural(params.get("limit"))).flatten();
        let offset = faults
            .take("offset", natural(params.get("offset")))
            .flatten();
        let max = if all_fields {
            GROUP_LIST_ALL_FIELDS_MAX
        } else {
            GROUP_LIST_MAX
        };
        let (sort, descending) = sort.unwrap_or((SortField::Title, false));
        faults.finish(GroupListArgs {
            all_fields,
            sort,
            descending,
            limit: limit.map_or(max, |l| l.min(max)),
            offset: offset.unwrap_or(0),
        })
    }
}

impl GroupListArgs {
    /// Sorts `items` (each with its name, English title and package count) as asked, and
    /// returns the page asked for.
    pub fn page<T>(&self, mut items: Vec<T>, key: impl Fn(&T) -> (&str, &str, i64)) -> Vec<T> {
        items.sort_by(|a, b| {
            let (a_name, a_title, a_count) = key(a);
            let (b_name, b_title, b_count) = key(b);
            let order = match self.sort {
                SortField::Name => a_name.cmp(b_name),
                SortField::Title => a_title.to_lowercase().cmp(&b_title.to_lowercase()),
                SortField::PackageCount => a_count.cmp(&b_count),
            }
            .then_with(|| a_name.cmp(b_name));
            if self.descending {
                order.reverse()
            } else {
                order
            }
        });
        items
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagListArgs {
    pub query: Option<String>,
    pub all_fields: bool,
}

impl TagListArgs {
    pub fn parse(params: &Params) -> Result<TagListArgs, Vec<FieldError>> {
        let mut faults = Faults::default();
        let query = faults.take("query", string(params.get("query"))).flatten();
        let all_fields = faults.take("all_fields", boolean(params.get("all_fields")));
        faults.finish(TagListArgs {
            query: query.filter(|q| !q.is_empty()),
            all_fields: all_fields.flatten().unwrap_or(false),
        })
    }
}

/// `help_show`'s `name`.
pub fn help_name(params: &Params) -> Result<String, Vec<FieldError>> {
    let mut faults = Faults::default();
    let name = faults.take("name", required(params.get("name")));
    faults.finish(name.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use serde_json::json;

    #[test]
    fn repeated_query_keys_become_lists() {
        let p = Params::from_query("id=a&x=1&x=2&x=3&empty=");
        assert_eq!(p.get("id"), Some(&json!("a")));
        assert_eq!(p.get("x"), Some(&json!(["1", "2", "3"])));
        assert_eq!(p.get("empty"), Some(&json!("")));
    }

    #[test]
    fn json_bodies() {
        assert_eq!(Params::from_json(b"").unwrap(), Params::default());
        assert_eq!(Params::from_json(b"  \n").unwrap(), Params::default());
        assert!(Params::from_json(b"[1]")
            .unwrap_err()
            .contains("needs to be a dictionary"));
        assert!(Params::from_json(b"{")
            .unwrap_err()
            .starts_with("Error decoding JSON data"));
        assert_eq!(
            Params::from_json(br#"{"id": "x"}"#).unwrap().get("id"),
            Some(&json!("x"))
        );
    }

    #[test]
    fn naturals() {
        let cases = [
            (json!(5), Ok(Some(5))),
            (json!("7"), Ok(Some(7))),
            (json!(" 8 "), Ok(Some(8))),
            (json!(""), Ok(None)),
            (json!(-1), Err("Must be a natural number")),
            (json!("-3"), Err("Must be a natural number")),
            (json!("ten"), Err("Invalid integer")),
            (json!(1.5), Err("Invalid integer")),
            (json!([1]), Err("Invalid integer")),
            (json!(99_999_999_999_u64), Ok(Some(u32::MAX))),
        ];
        for (value, expected) in cases {
            assert_eq!(natural(Some(&value)), expected, "{value}");
        }
    }

    #[test]
    fn booleans() {
        for yes in ["true", "True", "1", "yes", "on"] {
            assert_eq!(boolean(Some(&json!(yes))), Ok(Some(true)), "{yes}");
        }
        for no in ["false", "0", "no", "off", ""] {
            assert_eq!(boolean(Some(&json!(no))), Ok(Some(false)), "{no}");
        }
        assert_eq!(boolean(Some(&json!(true))), Ok(Some(true)));
        assert_eq!(boolean(Some(&json!("maybe"))), Err("Invalid boolean"));
        assert_eq!(boolean(Some(&json!({}))), Err("Invalid boolean"));
    }

    #[test]
    fn package_list_args() {
        let args = PackageListArgs::parse(&Params::from_query("limit=2&offset=1&extra=x")).unwrap();
        assert_eq!(
            args,
            PackageListArgs {
                limit: 2,
                offset: 1
            }
        );
        let all = PackageListArgs::parse(&Params::default()).unwrap();
        assert_eq!(all.limit, PACKAGE_LIST_MAX);
        let faults = PackageListArgs::parse(&Params::from_query("limit=x&offset=-1")).unwrap_err();
        let pointers: Vec<&str> = faults.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/limit", "/offset"]);
    }

    #[test]
    fn group_list_args() {
        let args = GroupListArgs::parse(&Params::from_query("all_fields=true&limit=100")).unwrap();
        assert_eq!(args.limit, GROUP_LIST_ALL_FIELDS_MAX);
        let args = GroupListArgs::parse(&Params::from_query("sort=package_count%20desc")).unwrap();
        assert_eq!(
            (args.sort, args.descending),
            (SortField::PackageCount, true)
        );
        let args = GroupListArgs::parse(&Params::from_query("sort=packages")).unwrap();
        assert_eq!(
            (args.sort, args.descending),
            (SortField::PackageCount, true)
        );
        let args = GroupListArgs::parse(&Params::from_query("sort=name")).unwrap();
        assert_eq!((args.sort, args.descending), (SortField::Name, false));
        assert!(GroupListArgs::parse(&Params::from_query("sort=id")).is_err());
        assert!(GroupListArgs::parse(&Params::from_query("sort=name%20up")).is_err());
    }

    #[test]
    fn show_args_need_an_id() {
        let faults = ShowArgs::parse(&Params::default()).unwrap_err();
        assert_eq!(faults[0].pointer, "/id");
        assert_eq!(faults[0].detail, "Missing value");
        let args = ShowArgs::parse(
            &Params::from_json(
                br#"{"id": "hk-td", "include_datasets": "true", "use_default_schema": true}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(args.id, "hk-td");
        assert!(args.include_datasets);
    }

    #[test]
    fn actions_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.name()), Some(action));
        }
        assert_eq!(Action::parse("package_revise"), None);
    }
}
