/** simple-peer's self-contained browser build: the same API as the 'simple-peer' module. */
declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer from 'simple-peer';
  export default SimplePeer;
}
