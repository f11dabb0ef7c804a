import { Args, Query, Resolver } from '@nestjs/graphql';
import { BadUserInputError, NotFoundError } from '../common/errors/domain-error';
import { GraphQLLocalDate } from '../common/scalars';
import { ExpiriesArgs } from './dto/expiries.args';
import { InstrumentArgs } from './dto/instrument.args';
import { SearchInstrumentsArgs } from './dto/search-instruments.args';
import { normaliseSearch } from './instrument-index';
import { DEFAULT_SEARCH_LIMIT, InstrumentsService } from './instruments.service';
import { InstrumentModel } from './models/instrument.model';

/** How long a request right after boot waits for the first instrument master. */
const FIRST_LOAD_WAIT_MS = 5_000;

@Resolver(() => InstrumentModel)
export class InstrumentsResolver {
  constructor(private readonly instruments: InstrumentsService) {}

  @Query(() => [InstrumentModel], {
    name: 'instruments',
    description: 'Ranked search on symbol and display name: exact, then prefix, then contains.',
  })
  async search(@Args() { search, limit }: SearchInstrumentsArgs): Promise<InstrumentModel[]> {
    if (normaliseSearch(search) === '') throw new BadUserInputError('search must not be empty');
    await this.loaded();
    return this.instruments.search(search, limit ?? DEFAULT_SEARCH_LIMIT);
  }

  @Query(() => InstrumentModel, { nullable: true })
  async instrument(
    @Args() { segment, securityId }: InstrumentArgs,
  ): Promise<InstrumentModel | null> {
    await this.loaded();
    return this.instruments.get(segment, securityId) ?? null;
  }

  @Query(() => [GraphQLLocalDate], { description: 'Option expiries from today on, ascending.' })
  async expiries(@Args() { underlying }: ExpiriesArgs): Promise<string[]> {
    await this.loaded();
    if (!this.instruments.isUnderlying(underlying)) {
      throw new NotFoundError(`No derivatives for underlying ${underlying}`);
    }
    return this.instruments.expiries(underlying);
  }

  /** Waits (bounded) for the first master; UNAVAILABLE (retryable) if it is still loading. */
  private loaded(): Promise<void> {
    return this.instruments.whenLoaded(FIRST_LOAD_WAIT_MS);
  }
}
