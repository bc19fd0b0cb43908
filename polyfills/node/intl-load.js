// The Intl polyfills, in dependency order, with English locale data and the full IANA time
// zone data; loaded by intl-prelude.js on first use. Each polyfill-force module adds its
// constructor to globalThis.Intl (and NumberFormat and DateTimeFormat replace the
// toLocaleString methods); intl-collator.js adds Collator and localeCompare.
import '@formatjs/intl-getcanonicallocales/polyfill-force.js';
import '@formatjs/intl-locale/polyfill-force.js';
import '@formatjs/intl-pluralrules/polyfill-force.js';
import '@formatjs/intl-pluralrules/locale-data/en.js';
import '@formatjs/intl-numberformat/polyfill-force.js';
import '@formatjs/intl-numberformat/locale-data/en.js';
import '@formatjs/intl-datetimeformat/polyfill-force.js';
import './intl-datetime-en.js';
import '@formatjs/intl-datetimeformat/locale-data/en.js';
import '@formatjs/intl-datetimeformat/add-all-tz.js';
import '@formatjs/intl-relativetimeformat/polyfill-force.js';
import '@formatjs/intl-relativetimeformat/locale-data/en.js';
import '@formatjs/intl-listformat/polyfill-force.js';
import '@formatjs/intl-listformat/locale-data/en.js';
import '@formatjs/intl-displaynames/polyfill-force.js';
import '@formatjs/intl-displaynames/locale-data/en.js';
import '@formatjs/intl-segmenter/polyfill-force.js';
import '@formatjs/intl-supportedvaluesof/polyfill-force.js';
import './intl-collator.js';

// The runtime's Date keeps local time in UTC (the sandbox has no time zone database and no TZ):
// the default time zone of Intl is the same, so both say the same hour.
Intl.DateTimeFormat.__setDefaultTimeZone('UTC');
