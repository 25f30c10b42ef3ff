// A CodeMirror 6 JSON editor whose problems (from the API or the JSON
// parser) are drawn at their place in the text.
import { json } from '@codemirror/lang-json';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import { locate } from '../lib/jsonpos';

export type Problem = { field: string; message: string; position?: number };

// diagnostics places each problem at the field it names in text.
export function diagnostics(text: string, problems: Problem[]): Diagnostic[] {
  return problems.map((p) => {
    const span = p.field === '$json' ? { from: p.position ?? 0, to: (p.position ?? 0) + 1 } : locate(text, p.field, p.position);
    const from = Math.min(span.from, text.length);
    return { from, to: Math.max(from, Math.min(span.to, text.length)), severity: 'error', message: p.message, source: p.field };
  });
}

type Props = { value: string; onChange: (v: string) => void; problems?: Problem[]; label: string; minHeight?: string };

export function JsonEditor({ value, onChange, problems = [], label, minHeight = '16rem' }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          json(),
          lintGutter(),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.theme({ '&': { minHeight, fontSize: '13px', border: '1px solid var(--mantine-color-gray-4)', borderRadius: '4px' }, '.cm-scroller': { minHeight } }),
          EditorView.updateListener.of((u) => u.docChanged && changed.current(u.state.doc.toString())),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // The editor is created once; value changes from outside are applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const text = v.state.doc.toString();
    v.dispatch(setDiagnostics(v.state, diagnostics(text, problems)));
  }, [problems, value]);

  return <div ref={host} data-testid={`editor-${label}`} />;
}

// parseProblem turns a JSON.parse failure into a problem at its position.
export function parseProblem(text: string): Problem | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(msg);
    return { field: '$json', message: `Not valid JSON: ${msg}`, position: m ? Number(m[1]) : 0 };
  }
}
