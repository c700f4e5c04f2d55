import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiFailure } from '../api/client';
import type { Application, Environment, Version } from '../api/types';
import type { Access } from '../auth/roles';
import { useDenial, useSession } from '../context';
import { useCatalog } from '../queries';
import { hrefOf } from '../router';
import { ActionButton, ConfirmDialog, ErrorMessage, Loading } from '../ui/parts';
import { FieldError } from './DeploymentsView';

type FieldKind = 'text' | 'textarea' | 'json' | 'select' | 'checkbox';

interface FieldSpec {
  readonly name: string;
  readonly label: string;
  readonly kind: FieldKind;
  readonly options?: readonly string[];
  /** part of the item's identity: set on create, not sent on edit */
  readonly createOnly?: boolean;
  readonly initial: string | boolean;
}

type Values = Record<string, string | boolean>;

interface KindSpec<T extends { id: string }> {
  readonly title: string;
  readonly singular: string;
  readonly path: string;
  readonly queryKey: string;
  readonly createAccess: Access;
  readonly editable: boolean;
  readonly fields: readonly FieldSpec[];
  readonly columns: readonly { readonly label: string; readonly value: (item: T) => string }[];
  readonly valuesOf: (item: T) => Values;
  readonly label: (item: T) => string;
}

const VERSIONS: KindSpec<Version> = {
  title: 'Versions',
  singular: 'version',
  path: '/versions',
  queryKey: 'versions',
  createAccess: 'deploy',
  editable: false,
  fields: [
    { name: 'git_tag', label: 'Git tag', kind: 'text', initial: '' },
    { name: 'git_commit', label: 'Git commit', kind: 'text', initial: '' },
    { name: 'repository', label: 'Repository', kind: 'text', initial: '' },
    { name: 'description', label: 'Description', kind: 'textarea', initial: '' },
  ],
  columns: [
    { label: 'Tag', value: (v) => v.git_tag },
    { label: 'Commit', value: (v) => v.git_commit.slice(0, 12) },
    { label: 'Repository', value: (v) => v.repository },
    { label: 'By', value: (v) => v.created_by },
  ],
  valuesOf: (v) => ({
    git_tag: v.git_tag,
    git_commit: v.git_commit,
    repository: v.repository,
    description: v.description,
  }),
  label: (v) => v.git_tag,
};

const APPLICATIONS: KindSpec<Application> = {
  title: 'Applications',
  singular: 'application',
  path: '/applications',
  queryKey: 'applications',
  createAccess: 'admin',
  editable: true,
  fields: [
    { name: 'name', label: 'Name', kind: 'text', initial: '' },
    { name: 'repository', label: 'Repository', kind: 'text', createOnly: true, initial: '' },
    { name: 'type', label: 'Type', kind: 'text', initial: 'microservice' },
    { name: 'config', label: 'Config (JSON object)', kind: 'json', initial: '{}' },
  ],
  columns: [
    { label: 'Name', value: (a) => a.name },
    { label: 'Type', value: (a) => a.type },
    { label: 'Repository', value: (a) => a.repository },
  ],
  valuesOf: (a) => ({
    name: a.name,
    repository: a.repository,
    type: a.type,
    config: JSON.stringify(a.config, null, 2),
  }),
  label: (a) => a.name,
};

const ENVIRONMENTS: KindSpec<Environment> = {
  title: 'Environments',
  singular: 'environment',
  path: '/environments',
  queryKey: 'environments',
  createAccess: 'admin',
  editable: true,
  fields: [
    { name: 'name', label: 'Name', kind: 'text', initial: '' },
    {
      name: 'type',
      label: 'Type',
      kind: 'select',
      options: ['kubernetes', 'physical'],
      initial: 'kubernetes',
    },
    { name: 'config', label: 'Config (JSON object; secrets are write-only)', kind: 'json', initial: '{}' },
    { name: 'is_active', label: 'Active', kind: 'checkbox', initial: true },
  ],
  columns: [
    { label: 'Name', value: (e) => e.name },
    { label: 'Type', value: (e) => e.type },
    { label: 'Active', value: (e) => (e.is_active ? 'yes' : 'no') },
  ],
  valuesOf: (e) => ({
    name: e.name,
    type: e.type,
    config: JSON.stringify(e.config, null, 2),
    is_active: e.is_active,
  }),
  label: (e) => e.name,
};

export function CatalogView() {
  const { versions, applications, environments } = useCatalog();
  return (
    <section>
      <h1>Catalog</h1>
      <CatalogSection spec={VERSIONS} items={versions.data?.versions} error={versions.error} />
      <CatalogSection
        spec={APPLICATIONS}
        items={applications.data?.applications}
        error={applications.error}
      />
      <CatalogSection
        spec={ENVIRONMENTS}
        items={environments.data?.environments}
        error={environments.error}
      />
    </section>
  );
}

type Editing<T> = { readonly mode: 'create' } | { readonly mode: 'edit'; readonly item: T };

function CatalogSection<T extends { id: string }>(props: {
  readonly spec: KindSpec<T>;
  readonly items: readonly T[] | undefined;
  readonly error: unknown;
}) {
  const { spec, items } = props;
  const { api } = useSession();
  const queryClient = useQueryClient();
  const createDenial = useDenial(spec.createAccess);
  const adminDenial = useDenial('admin');
  const [editing, setEditing] = useState<Editing<T> | undefined>(undefined);
  const [deleting, setDeleting] = useState<T | undefined>(undefined);
  const remove = useMutation({
    mutationFn: (item: T) => api.send('DELETE', `${spec.path}/${encodeURIComponent(item.id)}`),
    onSuccess: async () => {
      setDeleting(undefined);
      await queryClient.invalidateQueries({ queryKey: [spec.queryKey] });
    },
  });
  const headingId = `catalog-${spec.queryKey}`;
  return (
    <section className="panel" aria-labelledby={headingId}>
      <header className="row">
        <h2 id={headingId}>{spec.title}</h2>
        <ActionButton
          label={`New ${spec.singular}`}
          denial={createDenial}
          onClick={() => setEditing({ mode: 'create' })}
        />
      </header>
      {editing !== undefined && (
        <ItemForm
          key={editing.mode === 'edit' ? editing.item.id : 'new'}
          spec={spec}
          editing={editing}
          onDone={() => setEditing(undefined)}
        />
      )}
      <ErrorMessage error={props.error} />
      {items === undefined ? (
        props.error === null && <Loading what={spec.title.toLowerCase()} />
      ) : items.length === 0 ? (
        <p className="muted">No {spec.title.toLowerCase()} yet.</p>
      ) : (
        <div className="scroll">
          <table>
            <thead>
              <tr>
                {spec.columns.map((column) => (
                  <th scope="col" key={column.label}>
                    {column.label}
                  </th>
                ))}
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id}>
                  {spec.columns.map((column, index) => (
                    <td key={column.label}>
                      {index === 0 && spec.queryKey === 'environments' ? (
                        <a href={hrefOf.environment(item.id)}>{column.value(item)}</a>
                      ) : (
                        column.value(item)
                      )}
                    </td>
                  ))}
                  <td className="row-actions">
                    {spec.editable && (
                      <ActionButton
                        label={`Edit ${spec.label(item)}`}
                        denial={adminDenial}
                        onClick={() => setEditing({ mode: 'edit', item })}
                      />
                    )}
                    <ActionButton
                      label={`Delete ${spec.label(item)}`}
                      danger
                      denial={adminDenial}
                      onClick={() => {
                        remove.reset();
                        setDeleting(item);
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deleting !== undefined && (
        <ConfirmDialog
          title={`Delete ${spec.singular} ${spec.label(deleting)}?`}
          confirmLabel="Delete"
          busy={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate(deleting)}
          onClose={() => setDeleting(undefined)}
        >
          <p>This cannot be undone. The API refuses while an unfinished deployment uses it.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function ItemForm<T extends { id: string }>(props: {
  readonly spec: KindSpec<T>;
  readonly editing: Editing<T>;
  readonly onDone: () => void;
}) {
  const { spec, editing } = props;
  const { api } = useSession();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<Values>(() =>
    editing.mode === 'edit'
      ? spec.valuesOf(editing.item)
      : Object.fromEntries(spec.fields.map((field) => [field.name, field.initial])),
  );
  const [localIssues, setLocalIssues] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      editing.mode === 'edit'
        ? api.send('PUT', `${spec.path}/${encodeURIComponent(editing.item.id)}`, body)
        : api.send('POST', spec.path, body),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: [spec.queryKey] });
      props.onDone();
    },
  });
  const fields = spec.fields.filter((field) => editing.mode === 'create' || field.createOnly !== true);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const issues: Record<string, string> = {};
    const body: Record<string, unknown> = {};
    for (const field of fields) {
      const value = values[field.name];
      if (field.kind === 'json') {
        try {
          body[field.name] = JSON.parse(String(value ?? '{}'));
        } catch {
          issues[field.name] = 'not valid JSON';
        }
      } else body[field.name] = value;
    }
    setLocalIssues(issues);
    if (Object.keys(issues).length === 0) save.mutate(body);
  };
  const apiIssue = (field: string) =>
    save.error instanceof ApiFailure ? save.error.fieldMessage(field) : undefined;
  const title = editing.mode === 'edit' ? `Edit ${spec.label(editing.item)}` : `New ${spec.singular}`;
  return (
    <form className="item-form" onSubmit={submit} aria-label={title} noValidate>
      <h3>{title}</h3>
      {fields.map((field) => {
        const message = localIssues[field.name] ?? apiIssue(field.name);
        const id = `${spec.queryKey}-${field.name}`;
        const set = (value: string | boolean) => setValues({ ...values, [field.name]: value });
        const value = values[field.name];
        const common = { id, name: field.name, 'aria-invalid': message !== undefined };
        return (
          <div key={field.name} className={field.kind === 'checkbox' ? 'field inline' : 'field'}>
            <label htmlFor={id}>{field.label}</label>
            {field.kind === 'checkbox' ? (
              <input
                {...common}
                type="checkbox"
                checked={value === true}
                onChange={(e) => set(e.target.checked)}
              />
            ) : field.kind === 'select' ? (
              <select {...common} value={String(value)} onChange={(e) => set(e.target.value)}>
                {(field.options ?? []).map((option) => (
                  <option key={option}>{option}</option>
                ))}
              </select>
            ) : field.kind === 'text' ? (
              <input {...common} value={String(value ?? '')} onChange={(e) => set(e.target.value)} />
            ) : (
              <textarea
                {...common}
                rows={field.kind === 'json' ? 4 : 2}
                value={String(value ?? '')}
                onChange={(e) => set(e.target.value)}
              />
            )}
            <FieldError message={message} />
          </div>
        );
      })}
      <ErrorMessage error={save.error} />
      <div className="buttons">
        <button type="button" onClick={props.onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          Save
        </button>
      </div>
    </form>
  );
}
