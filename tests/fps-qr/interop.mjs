// Independent EMVCo merchant-presented-mode implementations, driven by Bauhinia's interop test
// (crates/fps/tests/it/qr_interop.rs). Reads one JSON request on standard input:
//
//   { "parse": ["payload", ...], "build": [{ "00": "01", "26": { "00": "hk.com.hkicl", ... }, ... }] }
//
// and writes one JSON answer on standard output:
//
//   { "parsed": [{ "fields": {...}, "regenerated": "...", "sdkCrcValid": true|null, "sdkTags": [...] }],
//     "built": [{ "payload": "...", "sdkCrcValid": true|null }] }
//
// Parsing and building use emv-qrcps (a builder and parser); the CRC of every payload is checked
// again by emvco-qr-sdk, a second implementation sharing no code with the first. emvco-qr-sdk
// computes its CRC over UTF-16 code units, so it is only asked about ASCII payloads (null
// otherwise). Field maps: id -> value, or id -> { sub-id -> value } for templates.

import emv from 'emv-qrcps';
import * as sdk from 'emvco-qr-sdk';

const { Merchant } = emv;

const isTemplate = (id) => {
    const n = Number(id);
    return (n >= 26 && n <= 51) || n === 62 || n === 64 || n >= 80;
};

// emv-qrcps has no getters: its rawData() lists "ID LL VALUE" lines, sub-fields indented.
function fieldsOf(parsed) {
    const fields = {};
    let template = null;
    for (const line of parsed.rawData().split('\n')) {
        if (line === '') continue;
        const m = /^( ?)(\d\d) (\d\d)(?: (.*))?$/su.exec(line);
        if (!m) throw new Error(`unexpected rawData line: ${JSON.stringify(line)}`);
        const [, indent, id, , value] = m;
        if (indent === '') {
            if (value === undefined) {
                template = {};
                fields[id] = template;
            } else {
                template = null;
                fields[id] = value;
            }
        } else {
            if (template === null) throw new Error(`sub-field outside a template: ${line}`);
            template[id] = value;
        }
    }
    return fields;
}

const isAscii = (text) => /^[\x20-\x7e]*$/.test(text);

function sdkCrcValid(payload) {
    if (!isAscii(payload)) return null;
    const tlvs = sdk.TlvParserService.parse(payload, false);
    return sdk.getCrcInfo(payload, tlvs).isValid;
}

function parse(payload) {
    const parsed = Merchant.Parser.toEMVQR(payload);
    return {
        fields: fieldsOf(parsed),
        regenerated: parsed.generatePayload(),
        sdkCrcValid: sdkCrcValid(payload),
        sdkTags: isAscii(payload) ? sdk.TlvParserService.parse(payload, false).map((t) => t.tag) : null,
    };
}

const ADDITIONAL_SETTERS = {
    '01': 'setBillNumber',
    '02': 'setMobileNumber',
    '03': 'setStoreLabel',
    '04': 'setLoyaltyNumber',
    '05': 'setReferenceLabel',
    '06': 'setCustomerLabel',
    '07': 'setTerminalLabel',
    '08': 'setPurposeTransaction',
    '09': 'setAdditionalConsumerDataRequest',
};

const TOP_SETTERS = {
    '00': 'setPayloadFormatIndicator',
    '01': 'setPointOfInitiationMethod',
    '52': 'setMerchantCategoryCode',
    '53': 'setTransactionCurrency',
    '54': 'setTransactionAmount',
    '55': 'setTipOrConvenienceIndicator',
    '56': 'setValueOfConvenienceFeeFixed',
    '58': 'setCountryCode',
    '59': 'setMerchantName',
    '60': 'setMerchantCity',
    '61': 'setPostalCode',
};

function build(spec) {
    const qr = Merchant.buildEMVQR();
    for (const [id, value] of Object.entries(spec)) {
        if (TOP_SETTERS[id]) {
            qr[TOP_SETTERS[id]](value);
        } else if (Number(id) >= 26 && Number(id) <= 51) {
            const account = Merchant.buildMerchantAccountInformation();
            for (const [sub, v] of Object.entries(value)) {
                if (sub === '00') account.setGloballyUniqueIdentifier(v);
                else account.addPaymentNetworkSpecific(sub, v);
            }
            qr.addMerchantAccountInformation(id, account);
        } else if (id === '62') {
            const data = Merchant.buildAdditionalDataFieldTemplate();
            for (const [sub, v] of Object.entries(value)) {
                if (!ADDITIONAL_SETTERS[sub]) throw new Error(`no setter for 62.${sub}`);
                data[ADDITIONAL_SETTERS[sub]](v);
            }
            qr.setAdditionalDataFieldTemplate(data);
        } else if (id === '64') {
            const language = Merchant.buildMerchantInformationLanguageTemplate();
            language.setLanguagePreference(value['00']);
            language.setMerchantName(value['01']);
            if (value['02'] !== undefined) language.setMerchantCity(value['02']);
            qr.setMerchantInformationLanguageTemplate(language);
        } else {
            throw new Error(`this script cannot build field ${id}${isTemplate(id) ? ' (template)' : ''}`);
        }
    }
    const payload = qr.generatePayload();
    return { payload, sdkCrcValid: sdkCrcValid(payload) };
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const answer = {
    parsed: (request.parse ?? []).map(parse),
    built: (request.build ?? []).map(build),
};
process.stdout.write(JSON.stringify(answer));
