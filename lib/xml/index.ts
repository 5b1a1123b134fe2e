export * from './namespaces';
export * from './parse';
export * from './query';
export * from './build';
