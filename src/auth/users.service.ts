import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { ConflictError, NotFoundError } from '../common/errors/domain-error';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher';
import { Role } from './role.enum';
import { USER_CHANGED, UserChangedEvent } from './auth.events';

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

  async create(username: string, password: string, role: Role): Promise<UserEntity> {
    if (await this.users.existsBy({ username })) {
      throw new ConflictError(`Username "${username}" is taken`);
    }
    const now = this.clock.now();
    const user = this.users.create({
      id: randomUUID(),
      username,
      passwordHash: await this.hasher.hash(password),
      role,
      disabled: false,
      createdAt: now,
      updatedAt: now,
    });
    try {
      return await this.users.save(user);
    } catch (error) {
      // Two creations of one name can race past the check above; the unique index decides.
      if (await this.users.existsBy({ username })) {
        throw new ConflictError(`Username "${username}" is taken`);
      }
      throw error;
    }
  }

  async update(id: string, changes: UserChanges): Promise<UserEntity> {
    const user = await this.users.findOneBy({ id });
    if (!user) throw new NotFoundError('User not found');
    if (changes.role !== undefined) user.role = changes.role;
    if (changes.disabled !== undefined) user.disabled = changes.disabled;
    if (changes.password !== undefined)
      user.passwordHash = await this.hasher.hash(changes.password);
    user.updatedAt = this.clock.now();
    const saved = await this.users.save(user);
    this.events.emit(USER_CHANGED, new UserChangedEvent(saved.id, saved.disabled, saved.role));
    return saved;
  }
}
