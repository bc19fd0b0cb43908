// formatjs's English date-time data as CLDR has it, moved to what Node prints (ICU), so a
// program prints the same under fabricks. Imported after the DateTimeFormat polyfill, before
// its English data, which it adjusts as it is added:
// - a plain space before AM/PM: CLDR has a narrow no-break space, which V8 and Node replace;
// - CLDR's atTime form joining a full or long date with its time ("Wednesday, January 1, 2025
//   at 9:30:00 PM GMT+9"), where formatjs uses "{1}, {0}": for dateStyle full and long, and for
//   the formats it made from options whose month is long ({ month: 'long', hour: ... }), as
//   ICU picks the joining pattern by the date's width;
// - the names of zones IANA renamed under their new name too: formatjs keys them by CLDR's
//   old id (Asia/Calcutta) and so finds no name for Asia/Kolkata (the table: every IANA zone
//   without names whose CLDR id has them, as Node 20's ICU canonicalizes it);
// - the two zone-specific summer names CLDR's English has (British, Irish), which formatjs
//   leaves out (it prints GMT+01:00 for London in summer).
const RENAMED = {
  'Africa/Asmara': 'Africa/Asmera', 'America/Argentina/Buenos_Aires': 'America/Buenos_Aires', 'America/Argentina/Catamarca': 'America/Catamarca',
  'America/Argentina/Cordoba': 'America/Cordoba', 'America/Argentina/Jujuy': 'America/Jujuy', 'America/Argentina/Mendoza': 'America/Mendoza',
  'America/Atikokan': 'America/Coral_Harbour', 'America/Indiana/Indianapolis': 'America/Indianapolis', 'America/Kentucky/Louisville': 'America/Louisville',
  'America/Nipigon': 'America/Toronto', 'America/Nuuk': 'America/Godthab', 'America/Pangnirtung': 'America/Iqaluit', 'America/Rainy_River': 'America/Winnipeg',
  'America/Thunder_Bay': 'America/Toronto', 'America/Yellowknife': 'America/Edmonton', 'Asia/Choibalsan': 'Asia/Ulaanbaatar', 'Asia/Ho_Chi_Minh': 'Asia/Saigon',
  'Asia/Kathmandu': 'Asia/Katmandu', 'Asia/Kolkata': 'Asia/Calcutta', 'Asia/Yangon': 'Asia/Rangoon', 'Atlantic/Faroe': 'Atlantic/Faeroe',
  'Australia/Currie': 'Australia/Hobart', 'Europe/Kyiv': 'Europe/Kiev', 'Europe/Uzhgorod': 'Europe/Kiev', 'Europe/Zaporozhye': 'Europe/Kiev',
  'Pacific/Chuuk': 'Pacific/Truk', 'Pacific/Kanton': 'Pacific/Enderbury', 'Pacific/Pohnpei': 'Pacific/Ponape',
};
const SUMMER = { 'Europe/London': 'British Summer Time', 'Europe/Dublin': 'Irish Standard Time' };

function adjust(data) {
  const d = JSON.parse(JSON.stringify(data).replace(/\u202f/g, ' '));
  d.dateTimeFormat = { ...d.dateTimeFormat, full: "{1} 'at' {0}", long: "{1} 'at' {0}" };
  for (const formats of Object.values(d.formats ?? {})) {
    for (const [skeleton, pattern] of Object.entries(formats)) {
      if (typeof pattern === 'string' && /MMMM(?!M)/.test(pattern)) formats[skeleton] = pattern.replace(/, (?=[hHkK])/, " 'at' ");
    }
  }
  const names = d.timeZoneName ?? {};
  for (const [zone, cldr] of Object.entries(RENAMED)) if (!names[zone] && names[cldr]) names[zone] = names[cldr];
  for (const [zone, summer] of Object.entries(SUMMER)) if (names[zone]?.long) names[zone] = { ...names[zone], long: [names[zone].long[0], summer] };
  return d;
}

const add = Intl.DateTimeFormat.__addLocaleData;
Intl.DateTimeFormat.__addLocaleData = function addLocaleData(...data) {
  return add.apply(this, data.map((d) => (d.locale === 'en' && d.data ? { ...d, data: adjust(d.data) } : d)));
};
