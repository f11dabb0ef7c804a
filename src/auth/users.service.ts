import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Repository, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { ConflictError, NotFoundError } from '../common/errors/domain-error';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher';
import { Role } from './role.enum';
import { USER_CHANGED, UserChangedEvent } from './auth.events';

/** Extra writes committed atomically with a user change. */
export type WriteHook = (user: UserEntity, manager: EntityManager) => Promise<void>;

export interface UserChanges {
  role?: Role;
  disabled?: boolean;
  password?: string;
}

/** Users and their credentials. Other modules go through this service, never the entity. */
@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly events: EventEmitter2,
  ) {}

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  findByUsername(username: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ username });
  }

  list(): Promise<UserEntity[]> {
    return this.users.find({ order: { username: 'ASC' } });
  }

  countAdmins(): Promise<number> {
    return this.users.countBy({ role: Role.ADMIN });
  }

  /**
   * Creates a user. `alsoInTransaction` runs in the same transaction (the admin audit entry),
   * so the user and its record exist together or not at all.
   */
  async create(
    username: string,
    password: string,
    role: Role,
    alsoInTransaction?: WriteHook,
  ): Promise<UserEntity> {
    if (await this.users.existsBy({ username })) {
      throw new ConflictError(`Username "${username}" is taken`);
    }
    const passwordHash = await this.hasher.hash(password);
    const now = this.clock.now();
    try {
      return await this.users.manager.transaction(async (manager) => {
        const repository = manager.getRepository(UserEntity);
        const saved = await repository.save(
          repository.create({
            id: randomUUID(),
            username,
            passwordHash,
            role,
            disabled: false,
            createdAt: now,
            updatedAt: now,
          }),
        );
        await alsoInTransaction?.(saved, manager);
        return saved;
      });
    } catch (error) {
      // Two creations of one name can race past the check above; the unique index decides.
      if (await this.users.existsBy({ username })) {
        throw new ConflictError(`Username "${username}" is taken`);
      }
      throw error;
    }
  }

  /** Changes role, disabled flag or password; USER_CHANGED is emitted after the commit. */
  async update(
    id: string,
    changes: UserChanges,
    alsoInTransaction?: WriteHook,
  ): Promise<UserEntity> {
    const passwordHash =
      changes.password === undefined ? undefined : await this.hasher.hash(changes.password);
    const saved = await this.users.manager.transaction(async (manager) => {
      const repository = manager.getRepository(UserEntity);
      const user = await repository.findOneBy({ id });
      if (!user) throw new NotFoundError('User not found');
      if (changes.role !== undefined) user.role = changes.role;
      if (changes.disabled !== undefined) user.disabled = changes.disabled;
      if (passwordHash !== undefined) user.passwordHash = passwordHash;
      user.updatedAt = this.clock.now();
      const updated = await repository.save(user);
      await alsoInTransaction?.(updated, manager);
      return updated;
    });
    this.events.emit(USER_CHANGED, new UserChangedEvent(saved.id, saved.disabled, saved.role));
    return saved;
  }
}
