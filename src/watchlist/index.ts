export * from './watchlist.events';
export * from './watchlist.options';
export * from './watchlist-references.service';
export * from './watchlist.service';
export * from './watchlist-tier-a.listener';
export * from './watchlist.module';
