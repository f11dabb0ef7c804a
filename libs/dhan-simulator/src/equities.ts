/**
 * NSE stocks of the simulated universe: symbol, company name, an approximate price level and,
 * for the first few, their real NSE and BSE codes (others get generated ids).
 */
export interface EquitySeed {
  symbol: string;
  name: string;
  price: number;
  nseId?: number;
  bseId?: number;
}

const KNOWN: EquitySeed[] = [
  { symbol: 'RELIANCE', name: 'Reliance Industries', price: 1290, nseId: 2885, bseId: 500325 },
  { symbol: 'TCS', name: 'Tata Consultancy Services', price: 4100, nseId: 11536, bseId: 532540 },
  { symbol: 'HDFCBANK', name: 'HDFC Bank', price: 1750, nseId: 1333, bseId: 500180 },
  { symbol: 'INFY', name: 'Infosys', price: 1850, nseId: 1594, bseId: 500209 },
  { symbol: 'ICICIBANK', name: 'ICICI Bank', price: 1300, nseId: 4963, bseId: 532174 },
  { symbol: 'SBIN', name: 'State Bank of India', price: 820, nseId: 3045, bseId: 500112 },
  { symbol: 'BHARTIARTL', name: 'Bharti Airtel', price: 1600, nseId: 10604, bseId: 532454 },
  { symbol: 'ITC', name: 'ITC', price: 470, nseId: 1660, bseId: 500875 },
  { symbol: 'LT', name: 'Larsen and Toubro', price: 3600, nseId: 11483, bseId: 500510 },
  { symbol: 'AXISBANK', name: 'Axis Bank', price: 1150, nseId: 5900, bseId: 532215 },
  { symbol: 'KOTAKBANK', name: 'Kotak Mahindra Bank', price: 1800, nseId: 1922 },
  { symbol: 'HINDUNILVR', name: 'Hindustan Unilever', price: 2450, nseId: 1394 },
  { symbol: 'BAJFINANCE', name: 'Bajaj Finance', price: 7000, nseId: 317 },
  { symbol: 'MARUTI', name: 'Maruti Suzuki India', price: 11200, nseId: 10999 },
  { symbol: 'SUNPHARMA', name: 'Sun Pharmaceutical Industries', price: 1780, nseId: 3351 },
  { symbol: 'TATAMOTORS', name: 'Tata Motors', price: 780, nseId: 3456 },
  { symbol: 'TITAN', name: 'Titan Company', price: 3300, nseId: 3506 },
  { symbol: 'ASIANPAINT', name: 'Asian Paints', price: 2500, nseId: 236 },
  { symbol: 'WIPRO', name: 'Wipro', price: 290, nseId: 3787 },
  { symbol: 'HCLTECH', name: 'HCL Technologies', price: 1800, nseId: 7229 },
  { symbol: 'ULTRACEMCO', name: 'UltraTech Cement', price: 11000, nseId: 11532 },
  { symbol: 'NTPC', name: 'NTPC', price: 360, nseId: 11630 },
  { symbol: 'POWERGRID', name: 'Power Grid Corporation of India', price: 320, nseId: 14977 },
  { symbol: 'ONGC', name: 'Oil and Natural Gas Corporation', price: 260, nseId: 2475 },
  { symbol: 'TATASTEEL', name: 'Tata Steel', price: 150, nseId: 3499 },
  { symbol: 'JSWSTEEL', name: 'JSW Steel', price: 950, nseId: 11723 },
  { symbol: 'ADANIENT', name: 'Adani Enterprises', price: 2500, nseId: 25 },
  { symbol: 'ADANIPORTS', name: 'Adani Ports and SEZ', price: 1250, nseId: 15083 },
  { symbol: 'M&M', name: 'Mahindra and Mahindra', price: 2900, nseId: 2031 },
  { symbol: 'BAJAJFINSV', name: 'Bajaj Finserv', price: 1650, nseId: 16675 },
];

const MORE = `NESTLEIND TECHM INDUSINDBK COALINDIA GRASIM HINDALCO DRREDDY CIPLA EICHERMOT BRITANNIA
APOLLOHOSP DIVISLAB HEROMOTOCO BPCL TATACONSUM SBILIFE HDFCLIFE BAJAJ-AUTO SHRIRAMFIN TRENT
BEL HAL DMART SIEMENS ABB PIDILITIND GODREJCP DABUR MARICO COLPAL HAVELLS VOLTAS BERGEPAINT
AMBUJACEM ACC SHREECEM DALBHARAT JKCEMENT RAMCOCEM IOC HPCL GAIL PETRONET IGL MGL GUJGASLTD
TATAPOWER ADANIGREEN ADANIPOWER JSWENERGY NHPC SJVN IRFC RVNL IRCTC CONCOR BHEL BEML
CANBK PNB BANKBARODA UNIONBANK INDIANB IDFCFIRSTB FEDERALBNK BANDHANBNK AUBANK RBLBANK
YESBANK IDBI CHOLAFIN MUTHOOTFIN MANAPPURAM LICHSGFIN PFC RECLTD IIFL POONAWALLA
SBICARD HDFCAMC ICICIPRULI ICICIGI LICI MAXHEALTH FORTIS LALPATHLAB METROPOLIS AUROPHARMA
LUPIN BIOCON TORNTPHARM ALKEM ZYDUSLIFE GLENMARK IPCALAB LAURUSLABS GRANULES NATCOPHARM
ABBOTINDIA PFIZER GLAXO SANOFI MPHASIS LTIM PERSISTENT COFORGE LTTS TATAELXSI KPITTECH
OFSS NAUKRI ZOMATO PAYTM POLICYBZR NYKAA DELHIVERY INDIGO TVSMOTOR ASHOKLEY ESCORTS
BALKRISIND MRF APOLLOTYRE CEATLTD BOSCHLTD MOTHERSON EXIDEIND AMARAJABAT BHARATFORG SONACOMS
TIINDIA CUMMINSIND THERMAX POLYCAB KEI DIXON AMBER BLUESTARCO CROMPTON WHIRLPOOL
PAGEIND JUBLFOOD DEVYANI WESTLIFE UBL MCDOWELL-N RADICO VBL TATACHEM UPL PIIND
COROMANDEL CHAMBLFERT DEEPAKNTR AARTIIND SRF NAVINFLUOR ATUL GNFC BALRAMCHIN
DLF GODREJPROP OBEROIRLTY PRESTIGE PHOENIXLTD LODHA SOBHA BRIGADE INDHOTEL EIHOTEL
SAIL NMDC JINDALSTEL VEDL HINDZINC NATIONALUM HINDCOPPER APLAPOLLO RATNAMANI
ZEEL SUNTV PVRINOX INDUSTOWER IDEA TATACOMM HFCL ASTRAL SUPREMEIND FINCABLES
ABCAPITAL ABFRL ADANIENSOL ATGL BSE CDSL MCX ANGELONE CAMS KFINTECH`;

/** Deterministic from the symbol only, so the list and its prices do not depend on the seed. */
export function equitySeeds(): EquitySeed[] {
  const seen = new Set(KNOWN.map((e) => e.symbol));
  const out = [...KNOWN];
  for (const symbol of MORE.split(/\s+/).filter((s) => s.length > 0)) {
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    let h = 0;
    for (let i = 0; i < symbol.length; i++) h = (h * 31 + symbol.charCodeAt(i)) >>> 0;
    const price = Math.round(Math.exp(Math.log(60) + ((h % 10000) / 10000) * Math.log(6000 / 60)));
    out.push({ symbol, name: `${symbol} Ltd`, price });
  }
  return out;
}
